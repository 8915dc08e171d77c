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


def test_no_turn_starts_while_an_urgent_one_is_announced() -> None:
    """Announced (the event loop handed it to a thread that has not run it
    yet): a background turn asked for meanwhile waits, though the lock is free."""
    turns = WriterTurns()
    order: list[str] = []
    announced = turns.announce()

    def bg() -> None:
        with turns.turn():
            order.append("bg")

    background = threading.Thread(target=bg)
    background.start()
    while _waiting(turns) < 1:
        threading.Event().wait(0.001)
    assert order == []
    with turns.turn(announced=announced):
        order.append("urgent")
    background.join(10)
    assert order == ["urgent", "bg"]
    announced.withdraw()  # after its turn began: nothing to undo
    assert turns._urgent_waiting == 0


def test_a_withdrawn_announcement_lets_the_others_go() -> None:
    turns = WriterTurns()
    announced = turns.announce()
    done = threading.Event()

    def bg() -> None:
        with turns.turn():
            done.set()

    background = threading.Thread(target=bg)
    background.start()
    while _waiting(turns) < 1:
        threading.Event().wait(0.001)
    announced.withdraw()
    announced.withdraw()  # twice: counted once
    assert done.wait(10)
    background.join(10)
    assert turns._urgent_waiting == 0
