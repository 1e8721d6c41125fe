"""Today's code for the page "From Channels 1 to today" (docs/channels1-to-today.md).

A small Django app and project in one folder. The page includes its parts by section
(`--8<-- [start:name]`), and test_today.py runs every part on the installed Channels, so the
"today" side of each before/after pair is code that works, not code that once did.
"""
