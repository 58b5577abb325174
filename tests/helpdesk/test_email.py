"""Mail leaves through a Celery task, which retries when the mail server is away."""

import pytest
from celery.exceptions import Retry

from helpdesk.tasks import email_send_task


def test_the_task_sends_the_mail(mailoutbox):
    email_send_task.delay(subject="Betreff", body="Text", to=["erika@example.de"])
    assert [(m.subject, m.to) for m in mailoutbox] == [("Betreff", ["erika@example.de"])]


def test_an_unreachable_mail_server_is_retried(settings, monkeypatch, mailoutbox):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("helpdesk.services.send_mail", refuse)
    with pytest.raises(Retry):
        email_send_task.apply(args=("Betreff", "Text", ["erika@example.de"]), throw=True).get()
    assert mailoutbox == []
