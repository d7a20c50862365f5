"""The writing desk: a document the writer edits, grown by a tree of model continuations.

No UI and no torch at import: the app opens the last document before any model loads.
"""
