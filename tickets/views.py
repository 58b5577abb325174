"""Agent workspace pages for tickets (thin views, STYLE R9)."""

from django.http import FileResponse

from tickets import permissions


def attachment_download(request, token: str):
    """Serve an attachment to someone who may see its ticket and message (404 otherwise)."""
    attachment = permissions.attachment_for(request.user, token)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
