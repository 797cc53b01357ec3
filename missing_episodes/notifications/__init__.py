"""Notifications (issue 17): the people who must act are told when an action falls due, goes overdue, changes
hands or climbs the escalation ladder, and the Team Manager gets the serious-notification form when it is due.

* ``directory``: who is who (the staff file: name, e-mail, role, team) and the out-of-hours rota;
* ``hours``: office hours on working days (policy ``hours``, bank holidays from the working-day calendar);
* ``plan``: from the stored actions, what is owed to whom and why as of a moment (pure, deterministic);
* ``outbox``: the ``notice`` table: insert before send, claim, send, retry, list;
* ``messages``: what a message says (refs and the action; names only on a secure channel).

Nothing here imports Prefect; the job ``missing_episodes.jobs.notifications`` ties them together.
"""
