"""Size limits for corpus documents, far above any real checksheet, enforced before a file is parsed.

A checksheet is a few hundred rows; the seed documents are at most 25 KB with lines of at most 841 characters.
Without limits, one 50 MB one-line page took 141 s and 11.4 GB to index, and a 5 KB workbook with one stray
cell at XFD1048576 made the sheet reader allocate over 12 GB.
"""

from __future__ import annotations

#: Bytes a document file (text or XLSX) and ``corpus.toml`` may have: 10 MiB, 400 times the largest seed file.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: Characters a line may have: one more than an Excel cell can hold (32,767), 39 times the longest seed line.
MAX_LINE_CHARS = 32_768
#: Characters a row's text may have (a quoted CSV cell or a bullet may span lines): tokenizing one takes
#: about 0.2 s, where a 1 MB row takes 4 s and a 5 MB one over 20 s and a gigabyte.
MAX_ROW_CHARS = 65_536
#: Bytes the parts of an XLSX file may unpack to (a zip bomb is refused before the workbook is opened).
MAX_XLSX_UNPACKED_BYTES = 64 * 1024 * 1024
#: Cells a worksheet's used range may span (rows x columns): a 300-row, 30-column sheet has 9,000.
MAX_SHEET_CELLS = 1_000_000
