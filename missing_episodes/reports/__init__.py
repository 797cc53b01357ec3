"""Reports and statutory returns, computed from the records the worklist reads.

Every figure here is derived from ``Episode``, ``Action`` and ``Outcome`` rows (see ``records``), with an action's
status read as of a moment exactly as the worklist reads it, so the board's figures and the coordinator's daily
list never disagree. Modules:

* ``records``: the store as pandas frames (our episodes only: other authorities' and withdrawn actions left out).
* ``figures`` / ``board``: the Corporate Parenting Board report (PDF and Excel) with national comparators.
* ``oversight``: the bi-monthly management-oversight list of repeat-missing children.
* ``ssda903`` / ``ssda903_rules``: the DfE SSDA903 Missing table and its validation rules.
* ``annex_a`` / ``ssd``: Ofsted Annex A list 8 columns and the Standard Safeguarding Dataset ``ssd_missing``.

Nothing here imports Prefect: the flows in ``flows/reports.py`` wrap these functions, and the export commands
call them directly.
"""
