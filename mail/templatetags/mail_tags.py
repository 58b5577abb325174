"""Template filters for showing messages that came by e-mail (quoted history folded)."""

from django import template
from django.utils.safestring import mark_safe

from mail import parsing

register = template.Library()


@register.filter
def text_segments(text: str) -> list[dict]:
    """A message's text as pieces in order, each {"text", "quoted"}: quoted history is
    shown folded. The text is still escaped by the template."""
    return [{"text": piece, "quoted": quoted} for piece, quoted in parsing.text_segments(text)]


@register.filter
def html_segments(html: str) -> list[dict]:
    """Sanitised HTML as pieces, each {"html", "quoted"}; every piece is sanitised again
    here (nh3), which is what makes marking it safe right."""
    return [
        {"html": mark_safe(piece), "quoted": quoted}  # noqa: S308 - sanitised just now
        for piece, quoted in parsing.html_segments(html)
    ]
