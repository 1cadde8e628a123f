"""Fill a customer's questionnaire (.xlsx, .xlsm, .csv): every question answered from one vendor's documents, cited.

>>> from assistant.questionnaire import detect_questionnaire, read_source
>>> q = detect_questionnaire(read_source("No,Question,Answer\\n1,Do you support SSO?,\\n".encode(), "q.csv"))
>>> [(x.row, x.text) for x in q.questions]
[(2, 'Do you support SSO?')]
"""

from __future__ import annotations

from assistant.questionnaire.detection import Questionnaire, detect_questionnaire
from assistant.questionnaire.filling import Asker, check_questions, fill
from assistant.questionnaire.grids import Source
from assistant.questionnaire.models import FilledRow, FillReport, SheetLayout
from assistant.questionnaire.questions import Question
from assistant.questionnaire.reading import read_file, read_source
from assistant.questionnaire.writing import check_output, default_output, filled_bytes, neutralise, write_atomic

__all__ = [
    "Asker",
    "FillReport",
    "FilledRow",
    "Question",
    "Questionnaire",
    "SheetLayout",
    "Source",
    "check_output",
    "check_questions",
    "default_output",
    "detect_questionnaire",
    "fill",
    "filled_bytes",
    "neutralise",
    "read_file",
    "read_source",
    "write_atomic",
]
