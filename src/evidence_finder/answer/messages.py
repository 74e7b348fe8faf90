"""Interface words of answers, in the question's language (nl or en)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "no_evidence": {
        "en": "No evidence found in the documents for this question.",
        "nl": "Geen bewijs gevonden in de documenten voor deze vraag.",
    },
    "no_quotes": {
        "en": "No respondent quotes found in the documents for this question.",
        "nl": "Geen citaten van respondenten gevonden in de documenten voor deze vraag.",
    },
    "evidence": {"en": "Evidence", "nl": "Bewijs"},
    "no_match": {
        "en": "The passages found do not mention the terms of the question.",
        "nl": "De gevonden passages noemen de termen van de vraag niet.",
    },
    "quotes_lead": {
        "en": "Respondents on this question:",
        "nl": "Respondenten over deze vraag:",
    },
    "llm_failed": {
        "en": "The language model could not answer ({reason}); this is the extractive answer.",
        "nl": "Het taalmodel kon niet antwoorden ({reason}); dit is het extractieve antwoord.",
    },
    "llm_unverified": {
        "en": "The language model's answer could not be verified against the passages; "
              "this is the extractive answer.",
        "nl": "Het antwoord van het taalmodel kon niet worden gecontroleerd aan de passages; "
              "dit is het extractieve antwoord.",
    },
    "removed_unsupported": {
        "en": "{n} sentence(s) of the language model were removed: no passage supports them.",
        "nl": "{n} zin(nen) van het taalmodel zijn verwijderd: geen passage onderbouwt ze.",
    },
    "flagged_unsupported": {
        "en": "{n} sentence(s) marked (unverified) are not supported by a passage.",
        "nl": "{n} zin(nen) gemarkeerd met (niet geverifieerd) worden door geen passage onderbouwd.",
    },
    "unverified_tag": {"en": "(unverified)", "nl": "(niet geverifieerd)"},
    "dropped_markers": {
        "en": "{n} citation marker(s) pointed to no passage and were removed.",
        "nl": "{n} bronverwijzing(en) verwezen naar geen passage en zijn verwijderd.",
    },
    "condense_failed": {
        "en": "The follow-up question was combined with the previous topic without the language "
              "model ({reason}).",
        "nl": "De vervolgvraag is zonder het taalmodel gecombineerd met het vorige onderwerp "
              "({reason}).",
    },
    "role_barrier": {"en": "Barriers", "nl": "Belemmeringen"},
    "role_enabler": {"en": "Success factors and what helps", "nl": "Succesfactoren en wat helpt"},
    "role_outcome": {"en": "Outcomes and impact", "nl": "Opbrengsten en impact"},
    "role_recommendation": {"en": "Recommendations", "nl": "Aanbevelingen"},
    "role_figure": {"en": "Figures", "nl": "Cijfers"},
    "role_description": {"en": "Other evidence", "nl": "Ander bewijs"},
    "role_label_barrier": {"en": "Barrier", "nl": "Belemmering"},
    "role_label_enabler": {"en": "Success factor", "nl": "Succesfactor"},
    "role_label_outcome": {"en": "Outcome", "nl": "Opbrengst"},
    "role_label_recommendation": {"en": "Recommendation", "nl": "Aanbeveling"},
    "role_label_figure": {"en": "Figure", "nl": "Cijfer"},
    "role_label_description": {"en": "Evidence", "nl": "Bewijs"},
    "silent_reports": {
        "en": "Nothing found on this in: {reports}.",
        "nl": "Hierover niets gevonden in: {reports}.",
    },
    "gap": {
        "en": "The reports give no evidence on {gap}.",
        "nl": "De rapporten geven geen bewijs over {gap}.",
    },
    "nearest": {
        "en": "The nearest evidence they give (not about that):",
        "nl": "Het dichtstbijzijnde bewijs dat ze geven (niet daarover):",
    },
    "filters_on": {"en": "Filters on: {filters}.", "nl": "Filters aan: {filters}."},
}


def msg(key: str, lang: str, **kwargs: object) -> str:
    """The message ``key`` in ``lang`` (Dutch for anything but 'en')."""
    table = MESSAGES[key]
    text = table["en" if lang == "en" else "nl"]
    return text.format(**kwargs) if kwargs else text
