"""Saying whether a reading was right, saving it only when asked, the gallery, the class view and the teacher's key."""

from __future__ import annotations

import os

import pytest

from classroom.drawings import DrawingsStore
from cnn.strokes import draw_digit
from tests.helpers.page import errors, run_app, shown

CLASS = "Your drawings and the class's"


@pytest.fixture
def store_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    monkeypatch.setenv("DRAWINGS_DB", url)
    return url


def no_it_was(at) -> dict:
    """The "No, it was" digits under the prediction: their buttons by digit."""
    return {int(b.label): b for b in at.button if b.key and b.key.startswith("wrong_")}


def yes(at):
    (button,) = [b for b in at.button if b.label.startswith("Yes, a ")]
    return button


def count(url: str, session: str | None = None) -> int:
    s = DrawingsStore(url)
    try:
        return s.count(session)
    finally:
        s.close()


def test_a_reading_is_labelled_in_one_click_and_kept_in_the_tab_only(store_url):
    at = run_app(draw_digit(7))
    assert not at.exception
    assert yes(at).label == "Yes, a 7"
    yes(at).click()
    at = run_app(draw_digit(7), at=at)
    assert not at.exception and errors(at) == []
    assert any("Labelled as 7 (kept in this tab)" in c.value for c in at.caption)
    assert count(store_url) == 0  # saving is opt-in: off, nothing reaches the server


def test_with_saving_on_a_correction_is_saved_and_can_be_deleted(store_url):
    at = run_app(draw_digit(7), save_on=True)
    other = no_it_was(at)
    assert sorted(other) == [0, 1, 2, 3, 4, 5, 6, 8, 9]  # every digit but the one read
    other[1].click()
    at = run_app(draw_digit(7), at=at)
    assert any("Labelled as 1 (saved on the server)" in c.value for c in at.caption)
    me = at.session_state["visitor"]
    (saved,) = DrawingsStore(store_url).mine(me)
    assert (saved.label, saved.prediction) == (1, 7) and saved.canvas_png.startswith(b"\x89PNG")
    at = run_app(None, at=at, part=CLASS)
    assert any("1 labelled in this tab, 0 read right; 1 saved on the server" in c.value for c in at.caption)
    at.button(key="del_all").click()
    at = run_app(None, at=at)
    assert count(store_url) == 0 and any("Label a reading" in i.value for i in at.info)


def test_the_class_view_measures_the_networks_on_every_saved_drawing(store_url):
    for digit, label in ((3, 3), (5, 5), (8, 2)):  # the last one labelled wrongly on purpose: the network reads 8
        at = run_app(draw_digit(digit), save_on=True)
        if label == digit:
            yes(at).click()
        else:
            no_it_was(at)[label].click()
        run_app(draw_digit(digit), at=at)
    assert count(store_url) == 3
    at = run_app(None, part=CLASS)
    assert not at.exception and errors(at) == []
    convnet = next(m for m in at.metric if m.label == "convnet")
    assert convnet.value == "66.7%"  # 2 of 3: the 8 labelled 2 is "misread"
    assert any("Most confused" in m.value and "2 read as 8 (1×)" in m.value for m in at.markdown)
    assert not at.text_input  # no teacher's key on this server: no control over other people's drawings


TEACHER = "a-long-enough-teacher-key-0123"  # 30 characters, 19 different


@pytest.fixture
def guard():
    """The server's guard against guessing the key, fresh for the test, its clock under the test's control."""
    from ui.drawings import key_guard

    key_guard.clear()
    g = key_guard()
    now = [1000.0]
    g.clock = lambda: now[0]
    yield g, now
    key_guard.clear()


def test_the_teachers_controls_need_the_servers_key(store_url, monkeypatch, guard, caplog):
    g, now = guard
    at = run_app(draw_digit(4), save_on=True)
    yes(at).click()
    run_app(draw_digit(4), at=at)
    monkeypatch.setenv("TEACHER_KEY", TEACHER)
    at = run_app(None, part=CLASS)
    at.text_input(key="teacher_key").input("wrong horse")
    at = run_app(None, at=at)
    assert "That is not the teacher's key." in errors(at)
    assert "teacher's key: wrong guess from" in caplog.text
    assert not [b for b in at.button if b.key == "teacher_delete_all"] and count(store_url) == 1
    at.text_input(key="teacher_key").input(TEACHER)  # at once: refused unread
    at = run_app(None, at=at)
    assert "Too many wrong keys from here: try again in 1 s." in errors(at)
    assert not [b for b in at.button if b.key == "teacher_delete_all"]
    now[0] += 1.5
    at.text_input(key="teacher_key").input(TEACHER + " ")
    at = run_app(None, at=at)
    at.text_input(key="teacher_key").input(TEACHER)
    now[0] += 10
    at = run_app(None, at=at)
    export = at.get("download_button")
    assert len(export) == 1 and "Export every drawing" in export[0].proto.label
    at.button(key="teacher_delete_all").click()
    at = run_app(None, at=at)
    assert count(store_url) == 0


def test_guessing_the_key_as_fast_as_messages_arrive_is_slowed_and_logged(store_url, monkeypatch, guard, caplog):
    """440 wrong guesses at 4.8 a second once cost nothing and left no trace. Now each wrong guess from a client
    doubles its wait, the server takes 10 wrong guesses a minute in all, and every wrong guess is logged."""
    g, now = guard
    monkeypatch.setenv("TEACHER_KEY", TEACHER)
    at = run_app(None, part=CLASS)
    compared = 0
    for i in range(60):  # one guess a message, 0.2 s apart, as the hostile client sent them
        before = g.total_wrong
        at.text_input(key="teacher_key").input(f"guess {i:04d}")
        at = run_app(None, at=at)
        compared += g.total_wrong - before
        now[0] += 0.2
    assert compared == 4  # waits of 1, 2 and 4 s after the first three: 12 s of guessing reaches a fourth
    assert caplog.text.count("teacher's key: wrong guess from") == compared
    others = [f"10.0.0.{i}" for i in range(30)]  # many clients at once: the server's own limit
    assert sum(g.check(c, "wrong")[1] == "That is not the teacher's key." for c in others) == 10 - compared
    assert g.check("10.0.1.1", TEACHER)[1].startswith("Too many wrong keys on this server")
    now[0] += 61
    assert g.check("10.0.1.1", TEACHER) == (True, None)  # the right key still works once the minute has passed


@pytest.mark.parametrize("key, why", [("1", "1 characters long"), ("correct horse", "13 characters long"),
                                      ("aaaaaaaaaaaaaaaaaaaa", "only 1 different characters")])
def test_a_short_or_guessable_key_is_refused_at_start_up(monkeypatch, key, why):
    from classroom.drawings import main as drawings_command
    from tools.serve import main as serve

    monkeypatch.setenv("TEACHER_KEY", key)
    assert drawings_command(["check-key"]) == 1
    assert serve(["--replicas", "1"]) == 2  # before any replica or nginx starts
    at = run_app(None, part=CLASS)
    assert any(why in shown(w.value) and "The teacher's controls are off" in w.value for w in at.warning)
    assert not at.text_input  # no way to type a key at all
    monkeypatch.setenv("TEACHER_KEY", TEACHER)
    assert drawings_command(["check-key"]) == 0


def test_a_broken_store_turns_saving_off_and_the_page_still_reads(tmp_path, monkeypatch):
    bad = tmp_path / "drawings.sqlite"
    bad.write_bytes(os.urandom(4096))
    monkeypatch.setenv("DRAWINGS_DB", f"sqlite:///{bad}")
    at = run_app(draw_digit(2), save_on=True)
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Prediction") == "2"
    assert at.toggle(key="save_toggle").disabled
    assert any("Saving is off" in c.value and "damaged" in c.value for c in at.caption)
    yes(at).click()
    at = run_app(draw_digit(2), at=at)
    assert any("Labelled as 2 (kept in this tab)" in c.value for c in at.caption)


def test_a_personal_copy_is_fine_tuned_from_the_page_and_reads_the_next_stroke(store_url):
    import numpy as np

    from classroom.finetune import MIN_DRAWINGS
    from cnn.strokes import jittered_digit

    rng = np.random.default_rng(5)
    at = None
    for k in range(MIN_DRAWINGS):
        canvas = jittered_digit(k % 10, rng, tilt=1.1)
        at = run_app(canvas, at=at)
        no_it_was(at)[k % 10].click() if yes(at).label != f"Yes, a {k % 10}" else yes(at).click()
        at = run_app(canvas, at=at)
    assert len(at.session_state["labelled"]) == MIN_DRAWINGS and count(store_url) == 0
    at = run_app(None, at=at, part=CLASS)
    at.button(key="finetune").click()
    at = run_app(None, at=at)
    assert not at.exception and errors(at) == []
    assert any(m.label.startswith("Your 2 held-back drawings") for m in at.metric)
    assert any("Fine-tuned in" in shown(c.value) for c in at.caption)
    at = run_app(draw_digit(3), at=at)
    assert any(m.value.startswith("**Your personal copy reads it as ") for m in at.markdown)


def test_saving_once_turned_on_stays_on_for_the_next_drawings(store_url):
    at = run_app(draw_digit(7))
    at.toggle(key="save_toggle").set_value(True)
    at = run_app(draw_digit(7), at=at)
    for digit in (7, 4, 0):  # after each label the controls give way to a caption; the choice must survive that
        at = run_app(draw_digit(digit), at=at)
        yes(at).click()
        at = run_app(draw_digit(digit), at=at)
        assert any(f"Labelled as {digit} (saved on the server)" in c.value for c in at.caption)
    assert count(store_url) == 3


def arrow(metric) -> str:
    """The arrow a metric shows: UP, DOWN or NONE."""
    return metric.proto.DESCRIPTOR.fields_by_name["direction"].enum_type.values_by_number[metric.proto.direction].name


@pytest.mark.parametrize("shipped, personal, delta, direction", [
    (0.5, 0.5, "no change", "NONE"), (0.5, 0.504, "no change", "NONE"), (0.5, 0.75, "+25 points", "UP"),
    (0.75, 0.5, "-25 points", "DOWN"),
])
def test_the_personal_copys_figures_name_their_digits_and_show_no_arrow_for_no_change(shipped, personal, delta,
                                                                                     direction):
    from classroom.finetune import FineTuneResult
    from cnn.model import load

    result = FineTuneResult(model=load(), seconds=1.0, steps=80, held_out=4, shipped_held_out=shipped,
                            personal_held_out=personal, mnist_held_out=500, shipped_mnist=0.99, personal_mnist=0.98)
    at = run_app(None, part=CLASS, personal=result)
    (copy,) = [m for m in at.metric if m.label == "… your personal copy"]
    assert copy.proto.delta == delta and arrow(copy) == direction
    caption = next(shown(c.value) for c in at.caption if "Fine-tuned in" in shown(c.value))
    assert "On 500 MNIST validation digits, which neither network trained on: shipped 99.0%, personal 98.0%." in caption


def test_a_spread_is_shown_without_an_arrow():
    at = run_app(draw_digit(3), part="How sure is it?")
    (mean,) = [m for m in at.metric if m.label.startswith("Mean probability of")]
    assert mean.proto.delta.startswith("± ") and arrow(mean) == "NONE"


@pytest.mark.parametrize("key", ["", TEACHER])
def test_the_saving_note_says_who_can_do_what_and_each_claim_holds(store_url, monkeypatch, tmp_path, key):
    """With or without the teacher's key, as the note says: a new visit cannot delete an earlier visit's drawing from
    the page, and the server's own command exports every drawing with no key at all."""
    from classroom.drawings import ENV_TEACHER_KEY, main as drawings_command

    monkeypatch.setenv(ENV_TEACHER_KEY, key)
    at = run_app(draw_digit(7))
    note = next(m.value for m in at.markdown if m.value.startswith("**What saving keeps"))
    assert ("the teacher's key, which this server has" in note) == bool(key)
    assert ("this server was started without a teacher's key" in note) == (not key)
    assert "so a reload keeps them yours" in note and "need no key" in note
    at.toggle(key="save_toggle").set_value(True)
    at = run_app(draw_digit(7), at=at)
    yes(at).click()
    at = run_app(draw_digit(7), at=at)
    assert count(store_url) == 1
    later = run_app(None, part=CLASS)  # another browser: a new session, a new visit, no cookie
    assert not [b for b in later.button if b.key and b.key.startswith("del_")]
    assert any(t.key == "teacher_key" for t in later.text_input) == bool(key)  # the way to the teacher's controls
    monkeypatch.delenv(ENV_TEACHER_KEY)
    assert drawings_command(["--db", store_url, "export", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "drawings.csv").read_text().count("\n") == 2  # a header and the one drawing


def test_a_labelled_drawing_is_kept_compactly():
    """0.66 MB a labelled drawing with saving off: each label's buttons held the canvas's 300 kB of pixels. Now a
    button carries the drawing's key, and the tab keeps the 28x28 image as bytes and a small thumbnail."""
    import numpy as np

    from classroom.drawings import image_from_bytes
    from cnn.preprocess import canvas_to_mnist
    from ui.drawings import THUMBNAIL, kept_images

    canvas = draw_digit(6)
    at = run_app(canvas)
    yes(at).click()
    at = run_app(canvas, at=at)
    (entry,) = at.session_state["labelled"].values()
    assert set(entry) == {"label", "prediction", "probability", "thumb", "image", "saved"}
    assert isinstance(entry["image"], bytes) and len(entry["image"]) == 28 * 28
    assert len(entry["thumb"]) < 4096 and entry["thumb"].startswith(b"\x89PNG")
    from PIL import Image
    import io

    assert Image.open(io.BytesIO(entry["thumb"])).size == (THUMBNAIL, THUMBNAIL)
    np.testing.assert_allclose(image_from_bytes(entry["image"]), canvas_to_mnist(canvas), atol=0.5 / 255)
    assert at.session_state["reading"]["key"] in at.session_state["labelled"]  # one reading per tab, replaced
    at = run_app(draw_digit(1), at=at)
    assert at.session_state["reading"]["key"] not in at.session_state["labelled"]


def test_a_click_for_a_drawing_no_longer_shown_labels_nothing():
    at = run_app(draw_digit(2))
    button = yes(at)
    at.session_state["reading"] = {**at.session_state["reading"], "key": "another drawing"}
    button.click()
    at = run_app(draw_digit(2), at=at)
    assert not at.session_state["labelled"]
    assert any("The drawing changed before that click arrived" in w.value for w in at.warning)


def test_a_client_that_reconnects_cannot_pass_its_address_cap():
    from classroom.drawings import ClientCap

    now = [0.0]
    cap = ClientCap(per_client=3, window=100, clients=2, clock=lambda: now[0])
    assert [cap.take("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert cap.take("10.0.0.2")  # another address has its own count
    now[0] = 150
    assert cap.take("10.0.0.1")  # a new window
    cap.take("10.0.0.3")
    assert len(cap._saves) == 2  # bounded: the oldest address is forgotten


def test_a_reload_keeps_the_drawings_a_visit_saved_deletable(store_url, monkeypatch):
    """After a failover or a reload the gallery came back empty and the saved drawings could not be deleted, though
    the page promised they could. The browser now brings the visit's id back in a cookie."""
    import ui.drawings

    at = run_app(draw_digit(7), save_on=True)
    yes(at).click()
    at = run_app(draw_digit(7), at=at)
    visit = at.session_state["visitor"]
    scripts = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert scripts == [f"<script>document.cookie = 'digits_visit={visit}; path=/; max-age=86400; "
                       "SameSite=Strict';</script>"]
    at = run_app(draw_digit(7), at=at)
    assert not [h for h in at.get("html") if "document.cookie" in h.proto.body]  # once
    assert count(store_url) == 1
    monkeypatch.setattr(ui.drawings, "visit_cookie", lambda: visit)  # the reloaded page's browser sends it
    later = run_app(None, part=CLASS)
    assert later.session_state["visitor"] == visit
    assert any("1 saved on the server by this browser before the page was last loaded" in c.value
               for c in later.caption)
    (delete,) = [b for b in later.button if b.key and b.key.startswith("del_saved_")]
    delete.click()
    later = run_app(None, at=later)
    assert count(store_url) == 0 and not [b for b in later.button if b.key and b.key.startswith("del_saved_")]
    monkeypatch.setattr(ui.drawings, "visit_cookie", lambda: "0" * 32)  # someone else's id: nothing of theirs
    assert run_app(None, part=CLASS).session_state["visitor"] == "0" * 32
