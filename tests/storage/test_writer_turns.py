"""In-process turns at the SQLite write lock: an urgent transaction (a
request stored before its acknowledgment) goes before background ones."""

from __future__ import annotations

import threading

from storage.engine import WriterTurns, make_engine, writer_turns


def _waiting(turns: WriterTurns) -> int:
    return len(turns._cond._waiters)  # type: ignore[attr-defined]


def test_an_urgent_turn_goes_before_those_already_waiting() -> None:
    turns = WriterTurns()
    order: list[str] = []
    held = threading.Event()
    let_go = threading.Event()

    def holder() -> None:
        with turns.turn():
            held.set()
            let_go.wait(10)

    def waiter(name: str, urgent: bool) -> None:
        with turns.turn(urgent=urgent):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    held.wait(10)
    background = [threading.Thread(target=waiter, args=(f"bg{i}", False)) for i in range(3)]
    for t in background:
        t.start()
    while _waiting(turns) < 3:
        threading.Event().wait(0.001)
    urgent = threading.Thread(target=waiter, args=("urgent", True))
    urgent.start()
    while _waiting(turns) < 4:
        threading.Event().wait(0.001)
    let_go.set()
    for t in [first, *background, urgent]:
        t.join(10)
    assert order[0] == "urgent"
    assert sorted(order[1:]) == ["bg0", "bg1", "bg2"]


def test_a_turn_is_reentrant_in_its_thread() -> None:
    turns = WriterTurns()
    with turns.turn(), turns.turn(urgent=True):
        pass
    with turns.turn():  # free again
        pass


def test_only_sqlite_engines_take_turns(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    assert writer_turns(engine) is writer_turns(engine) is not None
    pg = make_engine("postgresql+psycopg://u@127.0.0.1:1/x")
    assert writer_turns(pg) is None
