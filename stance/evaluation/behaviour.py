"""Behavioural checks in the spirit of CheckList (Ribeiro et al. 2020): a small templated Danish
suite written for the project (constructed text, not taken from any corpus or pool).

Three test types:

- **Minimum functionality** (MFT): short texts with an obvious label — plain praise, plain
  criticism, negated criticism (must not be ``against``), negated praise (must not be ``for``),
  negativity about other targets (government, a-kasser, dagpenge rules, employers: ``neutral``)
  and neutral questions or facts.
- **Invariance** (INV): swapping municipality or person names, or the final punctuation, must
  not change the label.
- **Direction** (DIR): adding a negation or a contrast clause must move the probability of a
  label the stated way.

The suite diagnoses; it never chooses a model (it is constructed text, and small).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stance.labels import LABEL2ID, LABELS

CITIES: tuple[str, ...] = ("Aarhus", "Odense", "Aalborg", "Esbjerg", "Næstved")
NAMES: tuple[str, ...] = ("Mette", "Ahmed", "Søren", "Fatima")


@dataclass(frozen=True)
class Case:
    """One check: ``texts`` and what the predictions must satisfy.

    ``kind`` is ``"mft"`` (each text's label must be ``expected``, or, with ``not_label``, must
    not be it), ``"inv"`` (all texts get the same label) or ``"dir"`` (``texts[1]``'s
    probability of ``label`` must be ``direction`` (+1 higher, -1 lower) than ``texts[0]``'s).
    """

    capability: str
    kind: str
    texts: tuple[str, ...]
    expected: str | None = None
    not_label: str | None = None
    label: str | None = None
    direction: int = 0


def _fill(template: str, cities: Sequence[str] = CITIES[:3]) -> list[str]:
    return [template.format(city=c) for c in cities] if "{city}" in template else [template]


MFT: dict[str, tuple[str | None, str | None, str | None, tuple[str, ...]]] = {
    # capability: (expected, not_label, description, templates)
    "praise -> for": (
        "for",
        None,
        None,
        (
            "Jobcentret er fint.",
            "Jobcentret i {city} er rigtig godt.",
            "Min sagsbehandler på jobcentret var hjælpsom og venlig.",
            "Jobcentret i {city} hjalp mig hurtigt i job.",
            "Tak til jobcentret for en god og respektfuld behandling.",
            "Jobcentret gør et godt stykke arbejde.",
        ),
    ),
    "criticism -> against": (
        "against",
        None,
        None,
        (
            "Jobcentret er elendigt.",
            "Jobcentret i {city} spilder folks tid.",
            "Min sagsbehandler på jobcentret var arrogant og uhjælpsom.",
            "Jobcentrene bør lukkes, de gør mere skade end gavn.",
            "Jobcentret i {city} behandler ledige som kriminelle.",
        ),
    ),
    "negated criticism -> not against": (
        None,
        "against",
        None,
        (
            "Jobcentret er ikke en skændsel.",
            "Jobcentret i {city} er ikke så dårligt, som folk siger.",
            "Min sagsbehandler på jobcentret var slet ikke uvenlig.",
        ),
    ),
    "negated praise -> not for": (
        None,
        "for",
        None,
        (
            "Jobcentret er ikke godt.",
            "Jobcentret i {city} hjalp mig overhovedet ikke.",
            "Min sagsbehandler på jobcentret var ikke hjælpsom.",
        ),
    ),
    "off-target negativity -> neutral": (
        "neutral",
        None,
        None,
        (
            "Regeringens nye dagpengeregler er urimelige.",
            "Min a-kasse er håbløs og svarer aldrig på mails.",
            "Politikerne på Christiansborg aner ikke, hvad de laver.",
            "Dagpengeperioden er alt for kort.",
            "Arbejdsgiverne i {city} vil ikke ansætte seniorer.",
        ),
    ),
    "neutral question or fact -> neutral": (
        "neutral",
        None,
        None,
        (
            "Hvornår har jobcentret i {city} åbent?",
            "Hvor ligger jobcentret i {city}?",
            "Jobcentret holder lukket mellem jul og nytår.",
            "Skal man møde op på jobcentret, hvis man er syg?",
        ),
    ),
}

INV_NAMES: tuple[str, ...] = (
    "{name} fra {city} fortæller, at jobcentret hjalp hende i job.",
    "{name} synes, at jobcentret i {city} er en katastrofe.",
    "Jobcentret i {city} har fået ny chef, {name} Hansen.",
    "{name} mødte en venlig sagsbehandler på jobcentret i {city}.",
    "{name} fra {city} blev sanktioneret af jobcentret uden grund.",
)
INV_PUNCTUATION: tuple[str, ...] = (
    "Jobcentret hjalp mig virkelig godt",
    "Jobcentret er en tidsrøver",
    "Jobcentret flytter til nye lokaler",
    "Sagsbehandleren på jobcentret lyttede til mig",
    "Jobcentret spildte et helt år af mit liv",
)
DIR: tuple[tuple[str, str, str, str, int], ...] = (
    # capability, base, changed, label, direction
    (
        "adding a negation",
        "Jobcentret i {city} er hjælpsomt.",
        "Jobcentret i {city} er ikke hjælpsomt.",
        "for",
        -1,
    ),
    (
        "adding a negation",
        "Jobcentret i {city} er en katastrofe.",
        "Jobcentret i {city} er ikke en katastrofe.",
        "against",
        -1,
    ),
    (
        "adding a negation",
        "Sagsbehandleren på jobcentret forstod mig.",
        "Sagsbehandleren på jobcentret forstod mig ikke.",
        "against",
        1,
    ),
    (
        "adding a contrast clause",
        "Sagsbehandleren var venlig.",
        "Sagsbehandleren var venlig, men jobcentret spildte min tid.",
        "against",
        1,
    ),
    (
        "adding a contrast clause",
        "Jobcentret i {city} var besværligt i starten.",
        "Jobcentret i {city} var besværligt i starten, men til sidst hjalp de mig i job.",
        "for",
        1,
    ),
    (
        "adding a contrast clause",
        "Jobcentret har gode intentioner.",
        "Jobcentret har gode intentioner, men systemet knuser de ledige.",
        "for",
        -1,
    ),
)


def behaviour_suite() -> list[Case]:
    """Every check of the suite."""
    cases: list[Case] = []
    for capability, (expected, not_label, _, templates) in MFT.items():
        for template in templates:
            for text in _fill(template):
                cases.append(Case(capability, "mft", (text,), expected, not_label))
    for template in INV_NAMES:
        texts = tuple(template.format(city=c, name=n) for c in CITIES[:3] for n in NAMES)
        cases.append(Case("names swapped -> same label", "inv", texts))
    for base in INV_PUNCTUATION:
        texts = (base + ".", base + "!", base, base + "...", base + "!!")
        cases.append(Case("punctuation changed -> same label", "inv", texts))
    for capability, base, changed, label, direction in DIR:
        for city in CITIES[:3] if "{city}" in base else CITIES[:1]:
            cases.append(
                Case(
                    capability,
                    "dir",
                    (base.format(city=city), changed.format(city=city)),
                    label=label,
                    direction=direction,
                )
            )
    return cases


def _passes(case: Case, probs: np.ndarray) -> bool:
    predicted = [LABELS[i] for i in probs.argmax(axis=1)]
    if case.kind == "mft":
        if case.expected is not None:
            return predicted[0] == case.expected
        return predicted[0] != case.not_label
    if case.kind == "inv":
        return len(set(predicted)) == 1
    assert case.label is not None
    column = LABEL2ID[case.label]
    return bool(np.sign(probs[1, column] - probs[0, column]) == case.direction)


def run_behaviour(classifier: Any, cases: Sequence[Case] | None = None) -> dict[str, Any]:
    """Pass rates per capability (and per test type) of ``classifier`` on the suite.

    Returns ``{"capabilities": {name: {"type", "n", "passed", "rate", "failures"}}, "overall":
    {...}}``; ``failures`` lists up to five failing texts (constructed text) with their labels.
    """
    cases = list(cases if cases is not None else behaviour_suite())
    texts = [t for case in cases for t in case.texts]
    all_probs = classifier.predict_proba(texts)
    result: dict[str, Any] = {"capabilities": {}}
    start = 0
    for case in cases:
        probs = all_probs[start : start + len(case.texts)]
        start += len(case.texts)
        row = result["capabilities"].setdefault(
            case.capability,
            {"type": case.kind.upper(), "n": 0, "passed": 0, "failures": []},
        )
        row["n"] += 1
        if _passes(case, probs):
            row["passed"] += 1
        elif len(row["failures"]) < 5:
            row["failures"].append(
                [
                    [t, LABELS[int(p.argmax())], round(float(p.max()), 2)]
                    for t, p in zip(case.texts, probs)
                ][:2]
            )
    for row in result["capabilities"].values():
        row["rate"] = row["passed"] / row["n"]
    n = sum(r["n"] for r in result["capabilities"].values())
    passed = sum(r["passed"] for r in result["capabilities"].values())
    result["overall"] = {"n": n, "passed": passed, "rate": passed / n}
    return result


def behaviour_table(result: dict[str, Any]) -> str:
    """The pass rates as a Markdown table."""
    lines = ["| type | capability | passed | rate |", "|---|---|---|---|"]
    for name, row in result["capabilities"].items():
        lines.append(f"| {row['type']} | {name} | {row['passed']}/{row['n']} | {row['rate']:.0%} |")
    o = result["overall"]
    lines.append(f"| all | all checks | {o['passed']}/{o['n']} | {o['rate']:.0%} |")
    return "\n".join(lines)
