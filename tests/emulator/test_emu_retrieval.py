"""Retrieval over small user-written corpora with the emulator's embeddings (issue 17 item 8).

The corpora and questions below were written as a user writes a first RAG notebook, and each
question is turned into variants by rules that know nothing of the emulator's features: other
inflections of its words (refund -> refunds / refunded / refunding, day -> days), other word
orders and other framings ("Quick question: ...", "I would like to know ..."). The emulator's
vectors must rank the document that shares the question's words first.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Callable, Iterator

import pytest

from azureinfer.emulator import Emulator
from azureinfer.emulator._embedding import embed_text

Corpus = dict[str, str]
Questions = dict[str, str]

OFFICE: Corpus = {
    "cafeteria": "The cafeteria on the ground floor serves breakfast from 8 am and lunch until "
    "2 pm. Vegetarian dishes are available every day.",
    "refunds": "Refunds for returned orders are issued to the original payment method within "
    "five working days after the warehouse receives the parcel.",
    "parking": "Staff parking is in the underground garage. Register your car's number plate "
    "with reception to get an access card.",
    "holidays": "Employees receive 25 days of paid leave per year. Holiday requests must be "
    "approved by your manager two weeks in advance.",
    "passwords": "To reset a forgotten password, open the self-service portal and follow the "
    "instructions sent to your phone.",
    "remote": "Working from home is allowed up to three days per week after agreement with the "
    "team lead.",
    "expenses": "Travel expenses are reimbursed monthly. Submit receipts through the expense "
    "app before the end of the month.",
    "badges": "Lost security badges must be reported to the security desk immediately; a "
    "replacement badge costs ten euros.",
}
OFFICE_QUESTIONS: Questions = {
    "When do I get my refund?": "refunds",
    "What time does the cafeteria open for breakfast?": "cafeteria",
    "Where can I park my car?": "parking",
    "How many days of paid leave do employees get?": "holidays",
    "I forgot my password, how do I reset it?": "passwords",
    "Can I work from home?": "remote",
    "How are travel expenses reimbursed?": "expenses",
    "What should I do if I lose my badge?": "badges",
}

SHOP: Corpus = {
    "returns": "Returns are accepted within 30 days of delivery. Items must be unused and in "
    "their original packaging.",
    "shipping": "Standard shipping takes 3 to 5 business days. Express shipping arrives the "
    "next day if you order before noon.",
    "warranty": "Every kettle carries a two year warranty covering defects in materials and "
    "workmanship.",
    "payment": "We accept credit cards, debit cards and bank transfers. Invoices are sent by "
    "email.",
    "descaling": "Descale the kettle monthly with water and white vinegar to remove limescale.",
    "tracking": "Once your parcel has shipped you receive a tracking link by text message.",
    "discounts": "Students get a ten percent discount with a valid student card.",
}
SHOP_QUESTIONS: Questions = {
    "How many days do I have to return an item?": "returns",
    "How long does express shipping take?": "shipping",
    "What does the warranty on a kettle cover?": "warranty",
    "Can I pay by bank transfer?": "payment",
    "How do I remove limescale from my kettle?": "descaling",
    "Where is my parcel? How can I track it?": "tracking",
    "Is there a student discount?": "discounts",
}

TOWN: Corpus = {
    "library": "The public library lends books, films and audiobooks. A library card is free "
    "for residents.",
    "late_fees": "Late fees are 20 cents per book per day, up to a maximum of five euros.",
    "pool": "The swimming pool opens at 6 am on weekdays and at 9 am at weekends.",
    "recycling": "Glass, paper and plastic are collected every second Tuesday. Put the bins "
    "out the evening before.",
    "permits": "Residents can apply online for a parking permit; it is valid for one year.",
    "passport": "Passport renewals take about three weeks. Book an appointment at the town "
    "hall and bring a recent photo.",
}
TOWN_QUESTIONS: Questions = {
    "How do I get a library card?": "library",
    "What is the fine for returning a book late?": "late_fees",
    "When does the swimming pool open?": "pool",
    "Which day is the recycling collected?": "recycling",
    "How can I apply for a parking permit?": "permits",
    "How long does it take to renew my passport?": "passport",
}

# Written after the rules were fixed, and measured once (held out).
GYM: Corpus = {
    "membership": "A monthly membership costs 35 euros and can be cancelled with one month's "
    "notice.",
    "classes": "Yoga and spinning classes run every evening; book your place in the app up to "
    "a week ahead.",
    "lockers": "Lockers need a padlock of your own. Anything left overnight is removed.",
    "guests": "Members may bring a guest twice a month for a fee of five euros.",
    "trainers": "Personal trainers offer a free first session to new members.",
    "opening": "The club is open from 6 am to 11 pm, and from 8 am to 8 pm on Sundays.",
}
GYM_QUESTIONS: Questions = {
    "How do I cancel my membership?": "membership",
    "Can I book a yoga class?": "classes",
    "Do I need my own padlock for the locker?": "lockers",
    "Can I bring a friend as a guest?": "guests",
    "Is the first session with a personal trainer free?": "trainers",
    "What are the opening hours on Sunday?": "opening",
}
HELPDESK: Corpus = {
    "printer": "If the printer shows a paper jam, open the front tray and remove the stuck sheet.",
    "vpn": "Connect to the VPN before opening internal websites from outside the office.",
    "laptop": "A broken laptop is replaced within two days; bring it to the IT desk.",
    "email": "Mailbox quota is 50 GB. Archive old emails to free space.",
    "software": "Request new software through the service catalogue; approval takes a day.",
}
HELPDESK_QUESTIONS: Questions = {
    "The printer is jammed, what do I do?": "printer",
    "How do I connect to the VPN from home?": "vpn",
    "My laptop broke, can I get a replacement?": "laptop",
    "My mailbox is full, how can I free space?": "email",
    "How do I request new software?": "software",
}

CASES = [
    ("office", OFFICE, OFFICE_QUESTIONS),
    ("shop", SHOP, SHOP_QUESTIONS),
    ("town", TOWN, TOWN_QUESTIONS),
]
HELD_OUT = [("gym", GYM, GYM_QUESTIONS), ("helpdesk", HELPDESK, HELPDESK_QUESTIONS)]

# -- variants: rules that know nothing of the emulator's features ----------------------------

_WORD = re.compile(r"[A-Za-z]+|[^A-Za-z]+")
_FUNCTION_TEXT = (
    "a an the and or of to in on at by for with from is are was were be it its this that what "
    "which who how when where why do does did i you we my your our can should long many much "
    "there if time"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
_VOWELS = "aeiou"


def _inflections(word: str) -> list[str]:
    """English inflections of a word by spelling rules (plural/3rd person, past, gerund)."""
    w = word.lower()
    forms = []
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        forms.append(w[:-1])  # plural -> singular
    elif w.endswith(("ch", "sh", "x", "ss")):
        forms.append(w + "es")
    elif w.endswith("y") and w[-2:-1] not in _VOWELS:
        forms.append(w[:-1] + "ies")
    else:
        forms.append(w + "s")
    base = w[:-1] if w.endswith("e") else w
    double = (
        len(w) >= 3
        and w[-1] not in _VOWELS + "wxy"
        and w[-2] in _VOWELS
        and w[-3] not in _VOWELS
        and len(w) <= 4
    )
    stem = w + w[-1] if double else base
    if not w.endswith(("ed", "ing")):
        forms.append(stem + "ed" if not w.endswith("e") else w + "d")
        forms.append(stem + "ing")
    return forms


def _inflected(question: str, rng: random.Random) -> Iterator[str]:
    """The question with each content word, in turn, replaced by each of its inflections."""
    tokens = _WORD.findall(question)
    for i, tok in enumerate(tokens):
        if not tok.isalpha() or tok.lower() in _FUNCTION_WORDS or len(tok) < 3:
            continue
        for form in _inflections(tok):
            yield "".join([*tokens[:i], form, *tokens[i + 1 :]])


def _reordered(question: str, rng: random.Random) -> Iterator[str]:
    """The question's words in three other orders (no punctuation)."""
    words = re.findall(r"\w+", question)
    for _ in range(3):
        rng.shuffle(words)
        yield " ".join(words)


FRAMES = (
    "Quick question: {q}",
    "I would like to know: {q}",
    "{q} Thanks in advance!",
    "Hello, could you help me? {q}",
    "{q} Please answer briefly.",
)


def _framed(question: str, rng: random.Random) -> Iterator[str]:
    for frame in FRAMES:
        yield frame.format(q=question)


VARIANTS: dict[str, Callable[[str, random.Random], Iterator[str]]] = {
    "original": lambda q, rng: iter([q]),
    "inflected": _inflected,
    "reordered": _reordered,
    "framed": _framed,
}


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


def hit_rates(
    embed: Callable[[str], list[float]],
    cases: list[tuple[str, Corpus, Questions]] = CASES,
) -> dict[str, tuple[int, int, list[tuple[str, str, str]]]]:
    """For each variant kind: (hits, questions, misses as (question, expected, retrieved))."""
    rng = random.Random(17)
    out: dict[str, tuple[int, int, list[tuple[str, str, str]]]] = {}
    for kind, make in VARIANTS.items():
        hits = total = 0
        misses: list[tuple[str, str, str]] = []
        for _, corpus, questions in cases:
            docs = {topic: embed(text) for topic, text in corpus.items()}
            for question, expected in questions.items():
                for variant in make(question, rng):
                    q = embed(variant)
                    best = max(docs, key=lambda t: _cos(q, docs[t]))
                    total += 1
                    if best == expected:
                        hits += 1
                    else:
                        misses.append((variant, expected, best))
        out[kind] = (hits, total, misses)
    return out


# The share of hits each kind of variant must reach. Measured (all kinds together): before the
# suffix rule and the longer stop-word list 93.6% at 1536 dimensions and 78.8% at 256 on CASES;
# after, 99.7% and 95.5% (the misses are lexical ties, e.g. "Which day is the recycling collected?"
# shares "day" with the late-fees document). HELD_OUT (written after the rules):
# 97.5% / 89.9% before, 100% / 100% after.
FLOORS = {256: 0.9, 1024: 0.97, 1536: 0.97}


@pytest.mark.parametrize("dimensions", sorted(FLOORS))
@pytest.mark.parametrize("which", ["tuned_on", "held_out"])
def test_user_written_questions_and_their_variants_retrieve_their_document(
    dimensions: int, which: str
) -> None:
    cases = CASES if which == "tuned_on" else HELD_OUT
    rates = hit_rates(lambda text: embed_text(text, dimensions, None), cases)
    for kind, (hits, total, misses) in rates.items():
        floor = 1.0 if kind == "original" and dimensions >= 1024 else FLOORS[dimensions]
        assert hits / total >= floor, (kind, f"{hits}/{total}", misses[:10])


def test_the_issue_example_over_http(azure_inference_emulator: Emulator) -> None:
    """'When do I get my refund?' retrieves the refunds document, not the cafeteria's, through
    the LangChain adapter and an in-memory vector store (as notebook 02 does)."""
    from langchain_core.vectorstores import InMemoryVectorStore

    from langchain_azureinfer import AzureInferenceEmbeddings

    emu = azure_inference_emulator
    embeddings = AzureInferenceEmbeddings(
        model="text-embedding-3-small", endpoint=emu.endpoint, credential=emu.key
    )
    store = InMemoryVectorStore.from_texts(
        list(OFFICE.values()), embedding=embeddings, metadatas=[{"topic": t} for t in OFFICE]
    )
    for question, expected in OFFICE_QUESTIONS.items():
        assert store.similarity_search(question, k=1)[0].metadata["topic"] == expected, question
    answered = [r.body["input"] for r in emu.requests_for("embeddings") if r.status == 200]
    assert {t for batch in answered for t in batch} == set(OFFICE.values()) | set(OFFICE_QUESTIONS)


def _report() -> None:
    """Print the hit rates (`python tests/emulator/test_emu_retrieval.py`)."""
    for label, cases in (("tuned on", CASES), ("held out", HELD_OUT)):
        for size in (64, 256, 1024, 1536):
            rates = hit_rates(functools.partial(_embed, dimensions=size), cases)
            hits = sum(h for h, _, _ in rates.values())
            total = sum(n for _, n, _ in rates.values())
            kinds = ", ".join(f"{k} {h}/{n}" for k, (h, n, _) in rates.items())
            print(f"{label:8} {size:5}d: {hits}/{total} = {hits / total:.1%} ({kinds})")


def _embed(text: str, dimensions: int) -> list[float]:
    return embed_text(text, dimensions, None)


if __name__ == "__main__":
    _report()
