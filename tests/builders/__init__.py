"""Builders the tests share: data and the functions that make it, in modules that are not test modules.

A test module never imports another test module (pytest would collect the builder's module twice over, and a
move of one test file would break another). What more than one module needs lives here, by what it builds:

* ``facts``: London times and the rules' facts without a database (``london``, ``child``, ``episode``, ``outcome``);
* ``feeds``: police notification rows and the CSV files they are delivered in (``message``, ``write_csv``);
* ``documents``: the Monday briefing's database (``seed_briefing``) and the hostile names and places it carries;
* ``reports``: the hand-made reporting dataset (``build_dataset``, ``add_child``, ``add_episode``, ``records_at``)
  and the authority's SSDA903 header and episodes files (``authority_files``, ``build_with_open_period``).
"""
