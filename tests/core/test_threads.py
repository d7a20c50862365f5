"""core/threads.py: the thread count chosen for the work and the machine's load, or as asked."""
import pytest
import torch

from core.threads import choose_threads, machine_load, set_threads


@pytest.mark.parametrize("cores, load", [(2, 0.0), (2, 3.5), (16, 0.3), (16, 12.0)])
def test_decoding_takes_one_thread_however_many_cores_and_load(cores, load, monkeypatch):
    monkeypatch.delenv("INKHORN_THREADS", raising=False)
    choice = choose_threads("decode", cores=cores, load=load)
    assert choice.threads == 1 and f"{cores} cores" in choice.reason and f"load {load:.1f}" in choice.reason


@pytest.mark.parametrize("cores, load, threads", [(2, 0.1, 2), (2, 1.1, 1), (2, 4.0, 1), (16, 0.4, 16),
                                                  (16, 5.6, 10), (16, 40.0, 1), (1, 0.0, 1)])
def test_batch_work_takes_the_cores_the_load_leaves_free(cores, load, threads, monkeypatch):
    monkeypatch.delenv("INKHORN_THREADS", raising=False)
    choice = choose_threads("batch", cores=cores, load=load)
    assert choice.threads == threads
    assert ("all free" in choice.reason) == (threads == cores and load < 0.5)


def test_asked_for_threads_win_flag_over_environment(monkeypatch):
    monkeypatch.setenv("INKHORN_THREADS", "3")
    assert choose_threads("decode", cores=2, load=9.0).threads == 3
    assert "INKHORN_THREADS" in choose_threads("batch").reason
    choice = choose_threads("batch", 5)
    assert choice.threads == 5 and "--threads" in choice.reason
    monkeypatch.setenv("INKHORN_THREADS", "many")
    with pytest.raises(ValueError, match="INKHORN_THREADS"):
        choose_threads("decode")
    with pytest.raises(ValueError, match="between 1 and"):
        choose_threads("decode", 0)
    with pytest.raises(ValueError, match="--threads must be between 1 and 256"):
        choose_threads("decode", 100_000)  # torch would start every one


def test_set_threads_reaches_torch(monkeypatch):
    monkeypatch.delenv("INKHORN_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        assert set_threads("decode", 2).threads == 2 and torch.get_num_threads() == 2
        assert set_threads("decode").threads == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_machine_load_is_read():
    cores, load = machine_load()
    assert cores >= 1 and load >= 0.0
