"""The header marks where the user is, also on pages below a section's start page."""

import re

import pytest


def _current_nav(response) -> list[str]:
    html = response.content.decode()
    nav = html[html.index('class="mainnav"') :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r'href="([^"]+)" aria-current="page"', nav)


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/agent/", "/agent/"),
        ("/agent/tickets/mine/", "/agent/tickets/mine/"),
        ("/agent/tickets/search/", "/agent/tickets/search/"),
        ("TICKET", "/agent/tickets/search/"),
        ("QUEUE", "/agent/"),
    ],
)
def test_workspace_pages_mark_their_section(client, tina, ticket, path, current):
    client.force_login(tina)
    path = {"TICKET": ticket.get_absolute_url(), "QUEUE": ticket.queue.get_absolute_url()}.get(
        path, path
    )
    assert _current_nav(client.get(path)) == [current]


def test_a_portal_request_page_marks_my_requests(client, alice, ticket):
    client.force_login(alice)
    response = client.get(f"/portal/requests/{ticket.reference}/")
    assert _current_nav(response) == ["/portal/"]
