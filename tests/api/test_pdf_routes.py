"""GET /v1/invoices/{id}/pdf and /v1/credit-notes/{id}/pdf: the documents a customer receives,
their recorded first rendering, and an auditor's re-rendering of that version."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TENANT, TenantClient
from tests.pdf import samples
from tests.pdf.reading import flat, pages, text

FR_VAT = "FR40303265045"


def pdf(tenant: TenantClient, path: str, **params: Any) -> Any:
    response = tenant.get(path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response


def history_types(tenant: TenantClient, path: str) -> list[str]:
    response = tenant.get(f"{path}/history")
    assert response.status_code == 200, response.text
    return [item["type"] for item in response.json()["data"]]


def test_a_finalized_invoice_pdf_shows_the_document_and_records_its_hash(
    tenant: TenantClient,
) -> None:
    invoice = tenant.finalized()
    path = f"/v1/invoices/{invoice['id']}"

    first = pdf(tenant, f"{path}/pdf")

    number = invoice["number"]
    assert first.headers["content-disposition"] == f'inline; filename="{number}.pdf"'
    digest = hashlib.sha256(first.content).hexdigest()
    assert first.headers["x-document-sha256"] == digest
    assert first.headers["x-recorded-sha256"] == digest
    assert first.headers["x-recorded-version"] == str(invoice["version"])
    shown = flat(text(first.content))
    for expected in (
        number,
        "Muster GmbH",
        "Kunde AG",
        "DE136695976",
        "Rechnung",  # the tenant's locale, as the customer names none
        "200,00",
        "38,00",
        "238,00",
    ):
        assert expected in shown, expected
    events = tenant.get(f"{path}/history").json()["data"]
    rendered = [e for e in events if e["type"] == "Rendered"]
    assert len(rendered) == 1
    assert rendered[0]["data"] == {
        "sha256": digest,
        "rendered_version": invoice["version"],
        "locale": "de",
    }


def test_rendering_again_gives_the_same_bytes_and_records_nothing_more(
    tenant: TenantClient,
) -> None:
    invoice = tenant.finalized()
    path = f"/v1/invoices/{invoice['id']}"
    first = pdf(tenant, f"{path}/pdf").content

    again = pdf(tenant, f"{path}/pdf")

    assert again.content == first
    assert again.headers["x-recorded-sha256"] == hashlib.sha256(first).hexdigest()
    assert history_types(tenant, path).count("Rendered") == 1


def test_an_auditor_re_renders_the_recorded_version_after_the_invoice_moved_on(
    tenant: TenantClient,
) -> None:
    invoice = tenant.finalized()
    path = f"/v1/invoices/{invoice['id']}"
    first = pdf(tenant, f"{path}/pdf")
    paid = tenant.post(f"{path}/payments", {"amount": "100.00", "paid_at": invoice["issue_date"]})
    assert paid.status_code == 200, paid.text

    now = pdf(tenant, f"{path}/pdf")
    auditor = tenant.client.get(
        f"{path}/pdf",
        params={"version": first.headers["x-recorded-version"]},
        headers=tenant.key_for("auditor"),
    )

    assert now.content != first.content  # it shows the payment
    assert "100,00" in flat(text(now.content))
    assert now.headers["x-recorded-sha256"] == first.headers["x-document-sha256"]
    assert auditor.status_code == 200, auditor.text
    assert auditor.content == first.content
    assert auditor.headers["x-document-sha256"] == first.headers["x-recorded-sha256"]


def test_a_past_version_is_for_auditors(tenant: TenantClient) -> None:
    invoice = tenant.finalized()
    response = tenant.client.get(
        f"/v1/invoices/{invoice['id']}/pdf",
        params={"version": 1},
        headers=tenant.key_for("issuer"),
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_a_draft_renders_with_a_watermark_no_number_and_no_record(tenant: TenantClient) -> None:
    draft = tenant.draft()
    path = f"/v1/invoices/{draft['id']}"

    response = pdf(tenant, f"{path}/pdf")

    shown = flat(text(response.content))
    assert "ENTWURF" in shown
    assert "INV-" not in shown
    assert "Muster GmbH" in shown
    assert "Kunde AG" in shown
    assert response.headers["content-disposition"] == f'inline; filename="draft-{draft["id"]}.pdf"'
    assert "x-recorded-sha256" not in response.headers
    assert tenant.get(path).json()["version"] == draft["version"]


def test_a_void_invoice_renders_with_a_void_watermark(tenant: TenantClient) -> None:
    invoice = tenant.finalized()
    voided = tenant.post(f"/v1/invoices/{invoice['id']}/void", {"reason": "Issued twice"})
    assert voided.status_code == 200, voided.text

    response = pdf(tenant, f"/v1/invoices/{invoice['id']}/pdf", locale="en")

    assert "VOID" in text(response.content)


def test_the_customers_locale_is_used_and_a_query_may_choose_another(
    tenant: TenantClient,
) -> None:
    invoice = tenant.finalized(customer_id=tenant.customer(locale="fr"))
    path = f"/v1/invoices/{invoice['id']}/pdf"

    french = pdf(tenant, path)
    english = pdf(tenant, path, locale="en")

    assert "FACTURE" in text(french.content)
    assert "INVOICE" in text(english.content)
    assert french.headers["x-recorded-sha256"] == french.headers["x-document-sha256"]
    assert english.headers["x-recorded-sha256"] == french.headers["x-document-sha256"]


def test_reverse_charge_shows_the_wording_and_both_vat_ids(client: TestClient) -> None:
    seller = TenantClient(client, **{**TENANT, "allow_tax_rate_override": False})
    customer = seller.customer(country="FR", kind="business", vat_id=FR_VAT, locale="en")
    draft = seller.draft(
        customer, [{"description": "Audit", "quantity": "1", "unit_price": "500.00"}]
    )
    invoice = seller.post(f"/v1/invoices/{draft['id']}/finalize", {}).json()

    shown = flat(text(pdf(seller, f"/v1/invoices/{invoice['id']}/pdf").content))

    assert "Reverse charge" in shown
    assert "DE136695976" in shown
    assert FR_VAT in shown
    for note in invoice["notes"]:
        assert flat(note) in shown


def test_gst_invoice_shows_the_cgst_and_sgst_split(client: TestClient) -> None:
    seller = TenantClient(
        client,
        legal_name="Acme India Pvt Ltd",
        country="IN",
        currency="INR",
        vat_id="27AAPFU0939F1ZV",
        region="27",
        locale="en",
        allow_tax_rate_override=False,
        address={"line1": "1 MG Road", "city": "Mumbai", "country": "IN"},
    )
    customer = seller.customer(country="IN", kind="business", vat_id="27AAPFU0939F1ZV", region="27")
    draft = seller.draft(
        customer, [{"description": "Design", "quantity": "1", "unit_price": "1000.01"}]
    )
    invoice = seller.post(f"/v1/invoices/{draft['id']}/finalize", {}).json()
    [group] = invoice["tax_breakdown"]
    heads = {head["tax"]: head["amount"] for head in group["components"]}

    shown = flat(text(pdf(seller, f"/v1/invoices/{invoice['id']}/pdf").content))

    assert heads == {"CGST": "90.00", "SGST": "90.00"}
    assert group["tax_amount"] == "180.00"
    assert "CGST" in shown
    assert "SGST" in shown
    assert "₹" in shown or "INR" in shown


def test_a_long_invoice_spans_pages_with_page_numbers(tenant: TenantClient) -> None:
    lines = [
        {"description": f"Item {n}", "quantity": "1", "unit_price": "1.00", "tax_rate": "19"}
        for n in range(120)
    ]
    invoice = tenant.finalized(lines=lines)

    document = pdf(tenant, f"/v1/invoices/{invoice['id']}/pdf", locale="en").content

    shown = pages(document)
    assert len(shown) >= 3
    assert f"Page {len(shown)} of {len(shown)}" in shown[-1]
    assert "142.80" in shown[-1]  # the total, on the last page
    assert "Item 119" in flat(text(document))


def test_a_credit_note_pdf_names_the_invoice_and_records_its_hash(tenant: TenantClient) -> None:
    invoice = tenant.finalized()
    issued = tenant.post(
        "/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    )
    assert issued.status_code == 201, issued.text
    note = issued.json()
    path = f"/v1/credit-notes/{note['id']}"

    response = pdf(tenant, f"{path}/pdf")

    shown = flat(text(response.content))
    assert note["number"] in shown
    assert invoice["number"] in shown
    assert "Returned" in shown
    assert response.headers["content-disposition"] == f'inline; filename="{note["number"]}.pdf"'
    assert response.headers["x-recorded-sha256"] == response.headers["x-document-sha256"]
    assert history_types(tenant, path).count("Rendered") == 1
    again = tenant.client.get(
        f"{path}/pdf",
        params={"version": response.headers["x-recorded-version"]},
        headers=tenant.key_for("auditor"),
    )
    assert again.status_code == 200, again.text
    assert again.content == response.content


def test_another_tenants_documents_are_not_found(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    invoice = tenant.finalized()
    note = tenant.post(
        "/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    ).json()

    for path in (f"/v1/invoices/{invoice['id']}/pdf", f"/v1/credit-notes/{note['id']}/pdf"):
        response = tenant_b.get(path)
        assert response.status_code == 404, path
    assert history_types(tenant, f"/v1/invoices/{invoice['id']}").count("Rendered") == 0


def test_an_unknown_document_or_version_is_not_found(tenant: TenantClient) -> None:
    invoice = tenant.finalized()
    auditor = tenant.key_for("auditor")
    unknown = tenant.get("/v1/invoices/00000000-0000-4000-8000-000000000000/pdf")
    too_far = tenant.client.get(
        f"/v1/invoices/{invoice['id']}/pdf", params={"version": 99}, headers=auditor
    )
    bad_locale = tenant.get(f"/v1/invoices/{invoice['id']}/pdf", locale="xx")
    assert unknown.status_code == 404
    assert too_far.status_code == 404
    assert bad_locale.status_code == 422


def put_logo(tenant: TenantClient, png: bytes, content_type: str = "image/png") -> Any:
    return tenant.client.put(
        "/v1/tenant/logo", content=png, headers={**tenant.headers, "Content-Type": content_type}
    )


def test_a_document_keeps_the_logo_it_was_finalized_with(tenant: TenantClient) -> None:
    first_logo, second_logo = samples.logo_png(240, 80), samples.logo_png(120, 120)
    assert put_logo(tenant, first_logo).status_code == 200
    invoice = tenant.finalized()
    path = f"/v1/invoices/{invoice['id']}/pdf"
    with_first = pdf(tenant, path).content

    changed = put_logo(tenant, second_logo)
    later = tenant.finalized()

    assert changed.status_code == 200, changed.text
    assert changed.json()["logo_sha256"] == hashlib.sha256(second_logo).hexdigest()
    assert tenant.get("/v1/tenant/logo").content == second_logo
    assert pdf(tenant, path).content == with_first
    assert invoice["seller"]["logo_sha256"] == hashlib.sha256(first_logo).hexdigest()
    assert later["seller"]["logo_sha256"] == hashlib.sha256(second_logo).hexdigest()
    assert b"/Subtype /Image" in with_first
    removed = tenant.client.delete("/v1/tenant/logo", headers=tenant.headers)
    assert removed.status_code == 200
    assert removed.json()["logo_sha256"] is None
    assert (
        b"/Subtype /Image"
        not in pdf(tenant, f"/v1/invoices/{tenant.finalized()['id']}/pdf").content
    )
    assert tenant.get("/v1/tenant/logo").status_code == 404


def test_a_logo_that_is_not_a_readable_png_is_refused(tenant: TenantClient) -> None:
    png = samples.logo_png()
    for body, content_type in (
        (b"GIF89a not a png", "image/png"),
        (png[:40], "image/png"),
        (png, "application/json"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (300 * 1024), "image/png"),
    ):
        response = put_logo(tenant, body, content_type)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert tenant.get("/v1/tenant").json()["logo_sha256"] is None
    issuer = tenant.client.put(
        "/v1/tenant/logo",
        content=png,
        headers={**tenant.key_for("issuer"), "Content-Type": "image/png"},
    )
    assert issuer.status_code == 403
