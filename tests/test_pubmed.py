"""The PubMed parser: hand-written records for every case, and real NCBI replies when ../shared is here."""

from __future__ import annotations

import gzip
import re
import tracemalloc
from io import BytesIO
from pathlib import Path

import pytest

from miner.pubmed import (
    Article,
    BookSkipped,
    Deletion,
    RecordError,
    SourceError,
    parse_bytes,
    parse_file,
    split_records,
)
from miner.standin import article_xml, pubmed_set

from .conftest import SHARED

FULL = """<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="2">31000001</PMID>
<DateRevised><Year>2021</Year><Month>03</Month><Day>15</Day></DateRevised>
<Article PubModel="Print-Electronic"><Journal><JournalIssue><PubDate><MedlineDate>2003 Nov-Dec</MedlineDate></PubDate>
</JournalIssue><Title>Journal of Bone Oncology</Title><ISOAbbreviation>J Bone Oncol</ISOAbbreviation></Journal>
<ArticleTitle>Serum <i>CTX</i> and Ca<sup>2+</sup> in bone metastasis</ArticleTitle>
<ELocationID EIdType="doi" ValidYN="Y">10.1000/jbo.2003.1</ELocationID>
<Abstract><AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Bone markers are <b>useful</b>.</AbstractText>
<AbstractText Label="RESULTS" NlmCategory="RESULTS">CTX was H<sub>2</sub>-high (P &lt; 0.01).</AbstractText></Abstract>
<AuthorList><Author><LastName>Smith</LastName><ForeName>Ann</ForeName><Initials>A</Initials></Author>
<Author><CollectiveName>Bone Study Group</CollectiveName></Author></AuthorList>
<Language>eng</Language><PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>
</PublicationTypeList></Article>
<MeshHeadingList><MeshHeading><DescriptorName UI="D001859" MajorTopicYN="Y">Bone Neoplasms</DescriptorName>
<QualifierName MajorTopicYN="N">secondary</QualifierName></MeshHeading>
<MeshHeading><DescriptorName MajorTopicYN="N">Humans</DescriptorName></MeshHeading></MeshHeadingList>
<KeywordList><Keyword>CTX</Keyword><Keyword>bone turnover</Keyword></KeywordList>
</MedlineCitation><PubmedData><History><PubMedPubDate PubStatus="entrez"><Year>2003</Year><Month>11</Month>
<Day>2</Day></PubMedPubDate></History><ArticleIdList><ArticleId IdType="pubmed">31000001</ArticleId>
<ArticleId IdType="pmc">PMC123456</ArticleId></ArticleIdList></PubmedData></PubmedArticle>"""


def only(records: list) -> Article:
    assert len(records) == 1 and isinstance(records[0], Article)
    return records[0]


def test_every_field_of_a_full_record() -> None:
    a = only(list(parse_bytes(pubmed_set([FULL]).encode())))
    assert (a.pmid, a.version) == ("31000001", 2)
    assert a.title == "Serum CTX and Ca2+ in bone metastasis"
    assert a.abstract == "BACKGROUND: Bone markers are useful.\nRESULTS: CTX was H2-high (P < 0.01)."
    assert (a.journal, a.journal_iso) == ("Journal of Bone Oncology", "J Bone Oncol")
    assert (a.year, a.pub_date) == (2003, "2003 Nov-Dec")
    assert a.authors == ["Smith A", "Bone Study Group"]
    assert (a.doi, a.pmcid) == ("10.1000/jbo.2003.1", "PMC123456")
    assert [(m.descriptor, m.major) for m in a.mesh] == [("Bone Neoplasms", True), ("Humans", False)]
    assert a.keywords == ["CTX", "bone turnover"]
    assert a.publication_types == ["Journal Article"]
    assert (a.language, a.date_revised, a.entrez_date) == ("eng", "2021-03-15", "2003-11-02")
    assert a.has_abstract and not a.retracted


def test_dates_year_month_day_and_unusable_year() -> None:
    xml = article_xml("1", "T", "A", year=2019).replace("<Year>2019</Year></PubDate>",
                                                          "<Year>2019</Year><Month>Feb</Month><Day>7</Day></PubDate>")
    assert only(list(parse_bytes(pubmed_set([xml]).encode()))).pub_date == "2019-02-07"
    odd = article_xml("2", "T", "A").replace("<Year>2020</Year></PubDate>", "<Year>None</Year></PubDate>")
    a = only(list(parse_bytes(pubmed_set([odd]).encode())))
    assert (a.year, a.pub_date) == (None, "")


def test_record_without_abstract_is_kept_and_flagged() -> None:
    xml = article_xml("5", "Title only", "").replace("<Abstract><AbstractText></AbstractText></Abstract>", "")
    a = only(list(parse_bytes(pubmed_set([xml]).encode())))
    assert a.abstract == "" and not a.has_abstract


def test_retracted_publication_and_retraction_notice() -> None:
    retracted = article_xml("7", "T", "A", publication_types=["Journal Article", "Retracted Publication"])
    notice = article_xml("8", "Retraction", "This article has been retracted.",
                         publication_types=["Retraction of Publication"],
                         extra='<CommentsCorrectionsList><CommentsCorrections RefType="RetractionOf">'
                               "<RefSource>J 2020</RefSource><PMID Version=\"1\">6</PMID>"
                               "</CommentsCorrections></CommentsCorrectionsList>")
    first, second = parse_bytes(pubmed_set([retracted, notice]).encode())
    assert isinstance(first, Article) and first.retracted
    assert isinstance(second, Article) and second.retraction_of == ["6"] and not second.retracted


def corrections(*items: tuple[str, str | None]) -> str:
    """A CommentsCorrectionsList of (RefType, PMID or None) entries."""
    body = "".join(f'<CommentsCorrections RefType="{kind}"><RefSource>Bone Rep. 2024;3:9</RefSource>'
                   + (f'<PMID Version="1">{pmid}</PMID>' if pmid else "") + "</CommentsCorrections>"
                   for kind, pmid in items)
    return f"<CommentsCorrectionsList>{body}</CommentsCorrectionsList>"


def test_retraction_notice_without_pmid_and_expression_of_concern() -> None:
    retracted = article_xml("7", "T", "A", extra=corrections(("RetractionIn", None)))
    concern = article_xml("8", "T", "A", extra=corrections(("ExpressionOfConcernIn", "90"),
                                                           ("ExpressionOfConcernIn", None), ("CommentIn", "91")))
    first, second = parse_bytes(pubmed_set([retracted, concern]).encode())
    assert isinstance(first, Article) and first.retracted and first.retracted_by == ["Bone Rep. 2024;3:9"]
    assert isinstance(second, Article) and not second.retracted
    assert second.expression_of_concern_in == ["90", "Bone Rep. 2024;3:9"]
    assert second.content_hash() != only(list(parse_bytes(pubmed_set([article_xml("8", "T", "A")]).encode())
                                              )).content_hash()


def test_a_new_field_left_empty_keeps_the_content_hash() -> None:
    """Hashes stored before expression_of_concern_in existed still match unchanged records."""
    import hashlib
    import json
    from dataclasses import asdict

    a = only(list(parse_bytes(pubmed_set([FULL]).encode())))
    before = {k: v for k, v in asdict(a).items() if k != "expression_of_concern_in"}
    digest = hashlib.sha256(json.dumps(before, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    assert a.content_hash() == digest


def test_every_language_is_kept() -> None:
    xml = article_xml("9", "T", "A").replace("<Language>eng</Language>",
                                             "<Language>eng</Language><Language>fre</Language>")
    assert only(list(parse_bytes(pubmed_set([xml]).encode()))).language == "eng fre"


MATH = """<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML">
    <mml:msub>
        <mml:mrow>
            <mml:mover>
                <mml:mrow><mml:mi>Q</mml:mi></mml:mrow>
                <mml:mo>˙</mml:mo>
            </mml:mover>
        </mml:mrow>
        <mml:mrow>
            <mml:mi>b</mml:mi>
            <mml:mi>o</mml:mi>
            <mml:mi>n</mml:mi>
            <mml:mi>e</mml:mi>
        </mml:mrow>
    </mml:msub>
</mml:math>"""


def test_mathml_reads_as_plain_text() -> None:
    formula = MATH.replace("mml:", "").replace("xmlns:mml", "xmlns")
    xml = article_xml("11", "TITLE", "ABSTRACT").replace("TITLE", f"Skeletal flow ( {MATH} ) in mice").replace(
        "ABSTRACT", f"We measured {formula} and <i>n</i> = 12 mice.")
    a = only(list(parse_bytes(pubmed_set([xml]).encode())))
    assert a.title == "Skeletal flow ( Qbone ) in mice"
    assert a.abstract == "We measured Qbone and n = 12 mice."


def test_delete_citation_and_book_article() -> None:
    xml = pubmed_set([
        article_xml("10", "T", "A"),
        "<PubmedBookArticle><BookDocument><PMID Version=\"1\">11</PMID></BookDocument></PubmedBookArticle>",
        '<DeleteCitation><PMID Version="1">12</PMID><PMID Version="1">13</PMID></DeleteCitation>',
    ])
    records = list(parse_bytes(xml.encode()))
    assert isinstance(records[0], Article)
    assert records[1] == BookSkipped("11")
    assert records[2] == Deletion(["12", "13"])


def test_a_malformed_record_is_reported_and_the_rest_are_read() -> None:
    broken = article_xml("21", "T", "A").replace("</ArticleTitle>", "</ArticleTitl>")
    unclosed = article_xml("22", "T", "A").replace("</PubmedArticle>", "")
    xml = pubmed_set([article_xml("20", "T", "A"), broken, unclosed, article_xml("23", "T", "A")])
    records = list(parse_bytes(xml.encode()))
    assert [type(r).__name__ for r in records] == ["Article", "RecordError", "RecordError", "Article"]
    assert records[1].pmid == "21" and "malformed XML" in records[1].message
    assert records[2].pmid == "22"
    assert [r.pmid for r in records if isinstance(r, Article)] == ["20", "23"]


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    doc = (f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           "<PubmedArticleSet>" + article_xml("30", "&xxe;", "A").replace("&amp;xxe;", "&xxe;") + "</PubmedArticleSet>")
    with pytest.raises(SourceError, match="documents that declare entities .* are refused") as refused:
        list(parse_bytes(doc.encode()))
    assert "TOPSECRET" not in str(refused.value)


def test_an_undeclared_entity_is_a_malformed_record() -> None:
    xml = pubmed_set([article_xml("31", "&nbsp;", "A").replace("&amp;nbsp;", "&nbsp;"), article_xml("32", "T", "A")])
    first, second = parse_bytes(xml.encode())
    assert isinstance(first, RecordError) and "undefined entity" in first.message
    assert isinstance(second, Article) and second.pmid == "32"


def test_gzip_files_and_not_pubmed_files(tmp_path: Path) -> None:
    gz = tmp_path / "pubmed26n0001.xml.gz"
    gz.write_bytes(gzip.compress(pubmed_set([article_xml("40", "T", "A"), article_xml("41", "T", "A")]).encode()))
    assert [r.pmid for r in parse_file(gz)] == ["40", "41"]  # type: ignore[union-attr]
    corrupt = tmp_path / "corrupt.xml.gz"
    corrupt.write_bytes(gzip.compress(pubmed_set([article_xml("42", "T", "A")] * 50).encode())[:300])
    with pytest.raises(SourceError):
        list(parse_file(corrupt))
    other = tmp_path / "other.xml"
    other.write_text("<html><body>hello</body></html>")
    with pytest.raises(SourceError, match="not PubMed XML"):
        list(parse_file(other))
    with pytest.raises(SourceError):
        list(parse_file(tmp_path / "missing.xml"))


def test_records_split_across_read_boundaries() -> None:
    records = [article_xml(str(100 + i), "T" * 50, "A" * (i * 37 % 900)) for i in range(300)]
    stream = BytesIO(pubmed_set(records).encode())
    pieces = list(split_records(stream))
    assert len(pieces) == 300 and all(p.endswith(b"</PubmedArticle>") for p in pieces)


def test_streaming_keeps_memory_bounded(tmp_path: Path) -> None:
    """A 40 MB file is read with a few MB of memory: nothing holds the whole file."""
    path = tmp_path / "big.xml"
    one = article_xml("1", "Title", "Abstract text. " * 150)
    with path.open("w") as fh:
        fh.write("<PubmedArticleSet>\n")
        for i in range(17_000):
            fh.write(one.replace(">1</PMID>", f">{i + 1}</PMID>"))
        fh.write("</PubmedArticleSet>\n")
    assert path.stat().st_size > 40e6
    tracemalloc.start()
    count = sum(1 for _ in parse_file(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 17_000
    assert peak < 12e6


FIXTURES = Path(__file__).parent / "fixtures"


def own_and_shared(own: list[str], shared: list[str]) -> list[Path]:
    """The project's own fixtures, and NCBI's real ones from ../shared when they are here."""
    return [FIXTURES / name for name in own] + [
        path for name in shared if (path := SHARED / "ncbi_fixtures" / name).exists()]


def test_efetch_replies() -> None:
    paths = own_and_shared(["efetch_markup.xml", "efetch_2019.xml"], [
        "pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml", "pubmed6.xml", "pubmed7.xml"])
    for path in paths:
        records = list(parse_file(path))
        assert records and all(isinstance(r, Article) for r in records), path
        for a in records:
            assert a.pmid.isdigit() and a.title and a.year and a.journal, path
            assert not re.search(r"</?(i|b|sup|sub|u)>|mml:", a.title + a.abstract), path
            assert not re.search(r"\b\w \w \w\b", a.title + a.abstract), path  # no spaced-out MathML


def test_structured_abstract_markup_and_identifiers() -> None:
    first, mathml = parse_file(FIXTURES / "efetch_markup.xml")
    assert isinstance(first, Article) and isinstance(mathml, Article)
    assert first.title == "Serum TRACP-5b and Ca2+ as markers of osteolytic lesions in renal cell carcinoma."
    assert first.abstract.startswith("OBJECTIVE: To test whether tartrate-resistant acid phosphatase 5b (TRACP-5b)")
    assert "\nMETHODS: " in first.abstract and "H2O2-derived" in first.abstract and "(P < 0.001)" in first.abstract
    assert (first.pmcid, first.doi, first.pub_date, first.language) == (
        "PMC9900101", "10.0000/ijso.2024.0101", "2024-04", "eng ger")
    assert first.authors == ["Okafor A", "Lindqvist PM", "Skeletal Marker Consortium"]
    assert [m.descriptor for m in first.mesh if m.major] == ["Carcinoma, Renal Cell"]
    assert mathml.title == "Peak Qmax in runners with treated skeletal lesions"
    assert "cardiac output ( Qmax ) of 21.3" in mathml.abstract and "the ratio a/b stayed" in mathml.abstract
    assert (mathml.version, mathml.pub_date, mathml.year) == (2, "2024 Winter-Spring", 2024)
    assert mathml.retracted and mathml.retracted_by == ["Invent Rep Exerc Physiol. 2025;8:44"]
    assert mathml.expression_of_concern_in == ["39000190"]
    for path in own_and_shared([], ["pubmed4.xml"]):
        real = only(list(parse_file(path)))
        assert real.abstract.startswith("OBJECTIVE: ") and "\nDESIGN: " in real.abstract
        assert real.pmcid and real.pmcid.startswith("PMC")


def test_medline_text() -> None:
    for path in own_and_shared(["medline.txt"], ["pubmed_result1.txt", "pubmed_result2.txt", "pubmed_result3.txt"]):
        records = list(parse_file(path))
        assert records and all(isinstance(r, Article) and r.pmid.isdigit() and r.title for r in records), path
        assert any(r.mesh for r in records), path  # type: ignore[union-attr]
    article, notice = parse_file(FIXTURES / "medline.txt")
    assert isinstance(article, Article) and isinstance(notice, Article)
    assert article.title == "Bone-specific alkaline phosphatase in the follow-up of breast cancer with skeletal spread."
    assert (article.language, article.doi, article.pmcid) == ("eng cze", "10.0000/ibr.2024.0012", "PMC9900301")
    assert [(m.descriptor, m.major) for m in article.mesh][0] == ("Breast Neoplasms", True)
    assert article.retracted and article.retracted_by == ["39000399"]
    assert article.expression_of_concern_in == ["Invent Bone Rep. 2024;5:90"]
    assert notice.retraction_of == ["39000301"] and not notice.retracted
