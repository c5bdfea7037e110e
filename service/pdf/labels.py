"""The words the packet and the assessment page put on recommendations and flags.

Apart from `service.pdf.document`, so that a page can name them without importing
WeasyPrint: only a packet worker renders PDFs, and the API need not carry it.
"""

RECOMMENDATION_LABELS = {
    "strong_no": "Strong no",
    "no": "No",
    "yes": "Yes",
    "strong_yes": "Strong yes",
}
FLAG_TITLES = {
    "coverage_gap": "Coverage gap",
    "single_rater": "Single rater",
    "halo": "Halo",
    "not_independent": "Not independent",
    "late_feedback": "Late feedback",
    "missing_scorecard": "Missing scorecard",
    "biased_language": "Wording to check",
    "process_deviation": "Process deviation",
}
