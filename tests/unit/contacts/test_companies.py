"""Tests for fluffymail.crm.contacts.companies."""

from __future__ import annotations

import csv

import pytest

from fluffymail.crm.contacts import companies


@pytest.mark.parametrize(
    ("email", "domain", "name"),
    [
        ("phillip.allen@enron.com", "enron.com", "Enron"),
        ("someone@mail.bbc.co.uk", "bbc.co.uk", "BBC"),
        ("x@list.transmission.bpa.gov", "bpa.gov", "BPA"),
        ("joseph@petro-canada.ca", "petro-canada.ca", "Petro-Canada"),
        ("peter.meier@neg.pge.com", "pge.com", "PGE"),
        ("x@bücher.de", "bücher.de", "Bücher"),
    ],
)
def test_company_domain__work_domains(email: str, domain: str, name: str) -> None:
    company = companies.company_domain(email)
    assert company is not None
    assert (company.domain, company.name) == (domain, name)


@pytest.mark.parametrize(
    "email",
    [
        "pallen70@hotmail.com",
        "a@gmail.com",
        "a@googlemail.com",
        "a@gmx.de",
        "a@gmx.net",
        "a@yahoo.co.uk",
        "a@yandex.ru",
        "a@proton.me",
        "a@qq.com",
        "a@163.com",
        "a@web.de",
    ],
)
def test_company_domain__free_mail_is_none(email: str) -> None:
    assert companies.company_domain(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "a@rr.com",
        "a@nc.rr.com",  # a regional variant: every host under a listed domain
        "a@socal.rr.com",
        "a@comcast.net",
        "a@mail.comcast.net",
        "a@verizon.net",
        "a@att.net",
        "a@worldnet.att.net",
        "a@aol.com",
        "a@earthlink.net",
        "a@sbcglobal.net",
        "a@btinternet.com",
        "a@t-online.de",
        "a@orange.fr",
        "a@optonline.net",
        "a@ix.netcom.com",
        "a@bigpond.net.au",
        "a@i.softbank.jp",  # a listed host under a registrable domain that is not listed
    ],
)
def test_company_domain__consumer_internet_providers_are_none(email: str) -> None:
    """QA: a person writing from a home ISP address worked at "Rr" or "Comcast"."""
    assert companies.company_domain(email) is None
    assert companies.is_free_mail_domain(email.rpartition("@")[2])


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("a@comcast.com", "comcast.com"),  # the providers' own corporate mail is a company
        ("a@att.com", "att.com"),
        ("a@verizon.com", "verizon.com"),
        ("a@softbank.jp", "softbank.jp"),
        ("a@rr-donnelley.com", "rr-donnelley.com"),
    ],
)
def test_company_domain__a_providers_corporate_domain_is_a_company(email: str, domain: str) -> None:
    company = companies.company_domain(email)
    assert company is not None and company.domain == domain


def test_company_domain__own_domain_is_internal() -> None:
    assert companies.company_domain("jane.tholt@enron.com", ["enron.com"]) is None
    assert companies.company_domain("x@ect.enron.com", ["enron.com"]) is None
    assert companies.company_domain("x@williams.com", ["enron.com"]) is not None


@pytest.mark.parametrize("email", ["", "nobody", "a@localhost", "a@com", "a@1.2.3.4"])
def test_company_domain__junk_is_none(email: str) -> None:
    assert companies.company_domain(email) is None


def test_company_name_from_domain() -> None:
    assert companies.company_name_from_domain("enron.com") == "Enron"
    assert companies.company_name_from_domain("www.williams.com") == "Williams"


def test_company_domain__enron_correspondents(corpus) -> None:
    """Known counterparties from the corpus README resolve to companies."""
    path = corpus / "ground_truth" / "enron_owner_correspondents.tsv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    text = "\n".join("\t".join(r) for r in rows)
    for domain in ("williams.com", "elpaso.com", "caiso.com", "bpa.gov"):
        if f"@{domain}" in text:
            company = companies.company_domain(f"someone@{domain}", ["enron.com"])
            assert company is not None and company.domain == domain
