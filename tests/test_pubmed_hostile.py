"""The PubMed reader under hostile and odd input: markup that hides record tags, records without end
tags, oversized records. Crafted input never creates an article that is not in the file."""

from __future__ import annotations

import time
from io import BytesIO

import pytest

from miner.pubmed import Article, RecordError, SourceError, parse_bytes, parse_stream, split_records
from miner.standin import article_xml, pubmed_set


def pmids(records: list) -> list[str]:
    return [r.pmid for r in records if isinstance(r, Article)]


def test_a_record_inside_a_comment_is_not_an_article() -> None:
    hidden = article_xml("666", "Phantom", "Not in the file")
    xml = pubmed_set([article_xml("1", "T", "A"), f"<!-- {hidden} -->", article_xml("2", "T", "A")])
    records = list(parse_bytes(xml.encode()))
    assert pmids(records) == ["1", "2"] and len(records) == 2


def test_a_comment_inside_a_record_keeps_the_record_whole() -> None:
    inner = article_xml("1", "Title", "Abstract").replace(
        "<Language>", f"<!-- </PubmedArticle>{article_xml('666', 'P', 'Q')} --><Language>")
    records = list(parse_bytes(pubmed_set([inner, article_xml("2", "T", "A")]).encode()))
    assert pmids(records) == ["1", "2"] and len(records) == 2
    assert records[0].title == "Title"


def test_record_like_text_in_cdata_is_text() -> None:
    cdata = article_xml("1", "TITLE", "A").replace(
        "TITLE", f"<![CDATA[a </PubmedArticle>{article_xml('666', 'P', 'Q')} b]]>")
    records = list(parse_bytes(pubmed_set([cdata, article_xml("2", "T", "A")]).encode()))
    assert pmids(records) == ["1", "2"] and len(records) == 2
    assert records[0].title.startswith("a </PubmedArticle><PubmedArticle>")


def test_a_record_in_an_entity_value_is_refused_with_the_document() -> None:
    doc = ('<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY e "'
           + article_xml("666", "P", "Q").replace('"', "&#34;") + '">]><PubmedArticleSet>'
           + article_xml("1", "T", "A") + "</PubmedArticleSet>")
    with pytest.raises(SourceError, match="declare entities"):
        list(parse_bytes(doc.encode()))


def test_ncbi_doctype_and_processing_instructions_are_read() -> None:
    xml = pubmed_set([article_xml("1", "T", "A")]).replace(
        "<PubmedArticleSet>", "<?pi <PubmedArticle> ?><PubmedArticleSet>")
    assert pmids(list(parse_bytes(xml.encode()))) == ["1"]


def test_a_record_without_end_tag_is_bounded_and_the_file_goes_on() -> None:
    """Past the record limit the record is an error; the next records are read; time stays linear."""
    unclosed = article_xml("5", "T", "A").replace("</PubmedArticle>", "") + "x" * 3_000_000
    xml = pubmed_set([article_xml("4", "T", "A"), unclosed.replace("<Language>", "<!-- never closed <Language>"),
                      "-->", article_xml("6", "T", "A")]).encode()
    records = list(parse_bytes(xml, max_record_bytes=1_000_000))
    assert [type(r).__name__ for r in records] == ["Article", "RecordError", "Article"]
    assert records[1].pmid == "5" and "longer than 1 MB" in records[1].message
    assert pmids(records) == ["4", "6"]


def test_huge_unclosed_record_costs_linear_time() -> None:
    small = pubmed_set([article_xml("1", "T", "A").replace("</PubmedArticle>", "") + "y" * 4_000_000])
    large = pubmed_set([article_xml("1", "T", "A").replace("</PubmedArticle>", "") + "y" * 40_000_000])
    timings = []
    for doc in (small.encode(), large.encode()):
        started = time.perf_counter()
        records = list(parse_bytes(doc, max_record_bytes=2_000_000))
        timings.append(time.perf_counter() - started)
        assert len(records) == 1 and isinstance(records[0], RecordError)
    assert timings[1] < timings[0] * 10 * 3 + 0.5  # ten times the data, not a hundred times the time


def test_record_tags_split_across_reads_and_markup_across_reads() -> None:
    """Comments, CDATA and end tags that straddle the reader's 1 MB chunks."""
    records = []
    for i in range(400):
        title = f"<![CDATA[t{i}]]>" if i % 3 else "T"
        rec = article_xml(str(100 + i), title, "A" * (i * 4099 % 9000)).replace("&lt;", "<").replace("&gt;", ">")
        records.append(rec + ("<!-- " + "c" * (i * 7 % 3000) + " -->" if i % 2 else ""))
    pieces = list(split_records(BytesIO(pubmed_set(records).encode())))
    assert len(pieces) == 400 and all(isinstance(p, bytes) and p.endswith(b"</PubmedArticle>") for p in pieces)
    parsed = list(parse_stream(BytesIO(pubmed_set(records).encode())))
    assert pmids(parsed) == [str(100 + i) for i in range(400)]
    assert parsed[4].title == "t4"


def test_unterminated_comment_at_the_end() -> None:
    xml = pubmed_set([article_xml("1", "T", "A")]).replace("</PubmedArticleSet>", "<!-- <PubmedArticle>")
    assert pmids(list(parse_bytes(xml.encode()))) == ["1"]


def test_a_record_cut_off_at_the_end_of_the_file_is_an_error() -> None:
    xml = pubmed_set([article_xml("1", "T", "A"), article_xml("2", "T", "A")])
    cut = xml[: xml.rindex("<Language>")]
    records = list(parse_bytes(cut.encode()))
    assert pmids(records) == ["1"] and isinstance(records[1], RecordError) and records[1].pmid == "2"
