"""The agent's customer pages: search, the record, verification widget, account actions."""

import pytest
from django.urls import reverse

from customers.models import Contract, CustomerNote, VerificationAttempt
from tests.customers.conftest import CANARY, PHONE_PASSWORD, make_invoices

pytestmark = pytest.mark.django_db


def detail_url(customer) -> str:
    return reverse("customers:customer-detail", args=[customer.number])


@pytest.fixture
def agent_client(client, bob):
    client.force_login(bob)
    return client


@pytest.mark.parametrize(
    "query",
    [
        "K1000001",
        "1000001",
        "musterfrau",
        "Musterfrau Erika",
        "Erika Musterfrau",
        "erika@example.de",
        "0221 1234567",
        "+49 221 1234567",
    ],
)
def test_search_finds_the_customer_by_every_key(agent_client, erika, malte, query):
    response = agent_client.get(reverse("customers:customer-search"), {"q": query})
    if response.status_code == 302:  # an exact hit opens the record at once
        assert response["Location"] == detail_url(erika)
    else:
        page = response.content.decode()
        assert "K1000001" in page and "K1000002" not in page


def test_search_by_postal_code_lists_everyone_there(agent_client, erika, malte):
    page = agent_client.get(reverse("customers:customer-search"), {"q": "10115"}).content.decode()
    assert "K1000002" in page and "K1000001" not in page


def test_search_without_hits_says_so(agent_client, erika):
    page = agent_client.get(reverse("customers:customer-search"), {"q": "Zzyzx"}).content.decode()
    assert "Kein Kunde gefunden" in page


def test_search_pages_through_many_hits(agent_client):
    from customers import services

    for i in range(30):
        services.customer_create(
            number=f"K20000{i:02}",
            first_name=f"Anna{i:02}",
            last_name="Schulz",
            street="Weg 1",
            postal_code="20095",
            city="Hamburg",
        )
    first = agent_client.get(reverse("customers:customer-search"), {"q": "schulz"})
    assert len(first.context["rows"]) == 25
    after = first.context["next_after"]
    second = agent_client.get(reverse("customers:customer-search"), {"q": "schulz", "after": after})
    shown = {row.number for row in first.context["rows"]} | {
        row.number for row in second.context["rows"]
    }
    assert len(second.context["rows"]) == 5 and len(shown) == 30
    assert second.context["next_after"] is None


def test_search_has_a_fixed_number_of_queries(agent_client, erika, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        agent_client.get(reverse("customers:customer-search"), {"q": "musterfrau"})


def test_record_shows_contracts_lines_invoices_notes(agent_client, erika, erika_line, erika_voip):
    make_invoices(erika, 3)
    page = agent_client.get(detail_url(erika)).content.decode()
    for text in (
        "Erika Musterfrau",
        "Heidestraße 17",
        "DSL 100",
        "DEU.1234.5678",
        "Offline",
        "0221 555001",
        "RK1000001-0001",
        "Nicht verifiziert",
    ):
        assert text in page, text


def test_record_costs_the_same_queries_with_many_rows(
    agent_client, bob, erika, erika_contract, erika_line, django_assert_num_queries
):
    make_invoices(erika, 2)
    with django_assert_num_queries(15) as few:  # 14 + the outage banner's one query
        agent_client.get(detail_url(erika))
    make_invoices(erika, 200)
    for i in range(30):
        Contract.objects.create(
            customer=erika,
            product=erika_contract.product,
            number=f"V-X-{i}",
            start_date=erika_contract.start_date,
            minimum_term_months=24,
            notice_period_months=1,
            monthly_price="1.00",
        )
        CustomerNote.objects.create(customer=erika, author=bob, text=f"n{i}")
    with django_assert_num_queries(len(few.captured_queries)):
        page = agent_client.get(detail_url(erika)).content.decode()
    assert "V-X-29" in page


def test_private_credentials_never_reach_the_page(agent_client, erika, erika_line):
    assert CANARY not in agent_client.get(detail_url(erika)).content.decode()


def test_verification_widget_over_htmx(agent_client, erika):
    url = reverse("customers:customer-verify", args=[erika.number])
    wrong = agent_client.post(url, {"phone_password": "falsch"}, HTTP_HX_REQUEST="true")
    page = wrong.content.decode()
    assert "Falsches Telefonkennwort" in page and "Noch 4 Versuche" in page
    right = agent_client.post(url, {"phone_password": PHONE_PASSWORD}, HTTP_HX_REQUEST="true")
    assert right.status_code == 204 and right["HX-Refresh"] == "true"
    assert "Verifiziert bis" in agent_client.get(detail_url(erika)).content.decode()


def test_verification_without_javascript(agent_client, erika):
    url = reverse("customers:customer-verify", args=[erika.number])
    response = agent_client.post(url, {"phone_password": PHONE_PASSWORD}, follow=True)
    assert "Anrufer verifiziert" in response.content.decode()


def test_empty_phone_password_gets_a_message_and_no_attempt(agent_client, erika):
    url = reverse("customers:customer-verify", args=[erika.number])
    page = agent_client.post(url, {"phone_password": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "Geben Sie ein, was der Anrufer sagt" in page
    assert not VerificationAttempt.objects.exists()


def test_locked_customer_shows_when_it_unlocks(agent_client, erika):
    url = reverse("customers:customer-verify", args=[erika.number])
    for _attempt in range(5):
        agent_client.post(url, {"phone_password": "falsch"}, HTTP_HX_REQUEST="true")
    page = agent_client.get(detail_url(erika)).content.decode()
    assert "Gesperrt bis" in page
    assert page.count("result-failure") == 5


def test_customer_without_phone_password_points_to_the_portal(agent_client, erika):
    erika.phone_password = ""
    erika.save()
    page = agent_client.get(detail_url(erika)).content.decode()
    assert "Kein Telefonkennwort hinterlegt" in page and "/portal/phone-password/" in page


def test_cancel_on_behalf_is_refused_without_verification(agent_client, erika, erika_contract):
    url = reverse("customers:contract-cancel", args=[erika.number, erika_contract.pk])
    response = agent_client.post(url, follow=True)
    assert "Telefonkennwort" in response.content.decode()
    assert Contract.objects.get(pk=erika_contract.pk).status == "active"


def test_cancel_on_behalf_after_verification(agent_client, erika, erika_contract):
    agent_client.post(
        reverse("customers:customer-verify", args=[erika.number]),
        {"phone_password": PHONE_PASSWORD},
    )
    url = reverse("customers:contract-cancel", args=[erika.number, erika_contract.pk])
    page = agent_client.post(url, follow=True).content.decode()
    assert "Kündigung erfasst" in page
    assert Contract.objects.get(pk=erika_contract.pk).status == "cancellation_requested"


def test_tariff_change_page(agent_client, erika, erika_contract, dsl_250):
    url = reverse("customers:contract-change-product", args=[erika.number, erika_contract.pk])
    refused = agent_client.post(url, {"product": dsl_250.pk})
    assert refused.status_code == 200 and "Telefonkennwort" in refused.content.decode()
    agent_client.post(
        reverse("customers:customer-verify", args=[erika.number]),
        {"phone_password": PHONE_PASSWORD},
    )
    assert agent_client.post(url, {"product": "not-a-number"}).status_code == 200
    assert agent_client.post(url, {"product": dsl_250.pk}).status_code == 302
    assert Contract.objects.get(pk=erika_contract.pk).product == dsl_250


def test_auth_code_page_after_verification(agent_client, erika, erika_domain):
    url = reverse("customers:connection-auth-code", args=[erika.number, erika_domain.pk])
    assert "AUTH-xyz-123" not in agent_client.post(url, follow=True).content.decode()
    agent_client.post(
        reverse("customers:customer-verify", args=[erika.number]),
        {"phone_password": PHONE_PASSWORD},
    )
    response = agent_client.post(url)
    assert "AUTH-xyz-123" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_notes_are_added_and_escaped(agent_client, erika):
    url = reverse("customers:customer-note-add", args=[erika.number])
    agent_client.post(url, {"kind": "warning", "text": "<script>alert(1)</script> Vorsicht"})
    page = agent_client.get(detail_url(erika)).content.decode()
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; Vorsicht" in page and "<script>alert(1)" not in page
    )
    agent_client.post(url, {"kind": "bogus", "text": "x"})
    agent_client.post(url, {"kind": "info", "text": ""})
    assert CustomerNote.objects.count() == 1


def test_invoice_list_pages_by_fifty(agent_client, erika):
    make_invoices(erika, 60)
    url = reverse("customers:customer-invoices", args=[erika.number])
    first = agent_client.get(url)
    assert first.content.decode().count("RK1000001-") == 50
    second = agent_client.get(url, {"after": first.context["page"].next_after})
    assert second.content.decode().count("RK1000001-") == 10
    assert agent_client.get(url, {"after": "garbage|x"}).status_code == 200


@pytest.mark.parametrize("persona", ["alice", "mallory", "phone_system"])
def test_customers_and_integrations_never_open_agent_customer_pages(
    client, request, persona, erika, erika_contract, erika_domain
):
    client.force_login(request.getfixturevalue(persona))
    for url in (
        reverse("customers:customer-search") + "?q=K1000001",
        detail_url(erika),
        reverse("customers:customer-invoices", args=[erika.number]),
        reverse("customers:contract-change-product", args=[erika.number, erika_contract.pk]),
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        reverse("customers:customer-verify", args=[erika.number]),
        reverse("customers:contract-cancel", args=[erika.number, erika_contract.pk]),
        reverse("customers:connection-auth-code", args=[erika.number, erika_domain.pk]),
        reverse("customers:customer-note-add", args=[erika.number]),
    ):
        assert client.post(url, {"phone_password": PHONE_PASSWORD, "text": "x"}).status_code == 403
    assert not VerificationAttempt.objects.exists() and not CustomerNote.objects.exists()


def test_unknown_customer_and_foreign_contract_are_404(agent_client, erika, malte_contract):
    assert (
        agent_client.get(reverse("customers:customer-detail", args=["K9999999"])).status_code == 404
    )
    url = reverse("customers:contract-cancel", args=[erika.number, malte_contract.pk])
    assert agent_client.post(url).status_code == 404


def test_cancel_confirmation_shows_the_end_date_to_read_out(agent_client, erika, erika_contract):
    url = reverse("customers:contract-cancel", args=[erika.number, erika_contract.pk])
    assert "Telefonkennwort" in agent_client.get(url).content.decode()
    agent_client.post(
        reverse("customers:customer-verify", args=[erika.number]),
        {"phone_password": PHONE_PASSWORD},
    )
    page = agent_client.get(url).content.decode()
    assert "28. Februar 2027" in page and "Kündigung erfassen" in page
    assert Contract.objects.get(pk=erika_contract.pk).status == "active"
