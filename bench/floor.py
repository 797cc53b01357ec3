"""``python -m bench.floor``: the floor of a Prefect-backed command, the reference of the on-demand benchmark.

A process that starts Python, imports Prefect, and runs one flow of one task against ``PREFECT_API_URL`` (the flow
run and task run are created on the server and moved through their states, its logs and events are sent) and
exits. Every on-demand command of the product does this much and no command run by Prefect can do less, so the
ratio ours / floor is what the product adds on top of Prefect: its own imports, its database work and the document
or report it writes. ``python -c 'import prefect'`` would be a lower reference, but it leaves out the flow run's
round trips to the server, which every Prefect-backed command pays and which the product cannot remove.
"""

from __future__ import annotations

from prefect import flow, task


@task(name="floor-task")
def one_task() -> int:
    return 1


@flow(name="floor-flow")
def floor_flow() -> int:
    return one_task()


if __name__ == "__main__":
    floor_flow()
