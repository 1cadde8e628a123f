"""Answers security questions with the vendor's own checksheet rows, verbatim and cited."""
