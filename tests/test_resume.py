"""Several processes agree on the epoch to resume from: the smallest backup, a process ahead taking its previous one."""

import json

import pytest

from cifar_helpers.machinery import resume


def back_up(folder, latest: int, previous=None):
    """Fake BackupAndRestore files: the latest epoch's, and (double_checkpoint) the previous one's."""
    backup = folder / "backup"
    backup.mkdir(parents=True)
    (backup / "training_metadata.json").write_text(json.dumps({"epoch": latest, "batch": 0}))
    (backup / "latest.weights.h5").write_text(f"weights of epoch {latest}")
    if previous is not None:
        (backup / "training_metadata.json.bkp").write_text(json.dumps({"epoch": previous, "batch": 0}))
        (backup / "latest.weights.h5.bkp").write_text(f"weights of epoch {previous}")


@pytest.fixture
def others_at(monkeypatch):
    """Make the other process report `epoch` (the gather returns this one's and that)."""

    def set_to(epoch):
        monkeypatch.setattr(resume, "epochs_of_every_process", lambda mine, placement: [mine, epoch])

    return set_to


def test_a_process_one_epoch_ahead_takes_its_previous_backup(tmp_path, others_at):
    back_up(tmp_path, latest=3, previous=2)
    others_at(2)
    assert resume.agree_on_resume(tmp_path, None) == 2
    assert resume.backed_up_epoch(tmp_path) == 2
    assert (tmp_path / "backup" / "latest.weights.h5").read_text() == "weights of epoch 2"


def test_processes_that_agree_keep_their_backups(tmp_path, others_at):
    back_up(tmp_path, latest=2, previous=1)
    others_at(3)  # the other one is ahead: it rolls back, this one stays
    assert resume.agree_on_resume(tmp_path, None) == 2
    assert (tmp_path / "backup" / "latest.weights.h5").read_text() == "weights of epoch 2"


def test_backups_too_far_apart_are_refused_with_what_to_do(tmp_path, others_at):
    back_up(tmp_path, latest=3, previous=2)
    others_at(1)
    with pytest.raises(RuntimeError, match="delete .* on every machine and start over"):
        resume.agree_on_resume(tmp_path, None)


def test_all_start_over_when_one_process_has_no_backup(tmp_path, others_at):
    back_up(tmp_path, latest=1, previous=None)
    others_at(0)
    assert resume.agree_on_resume(tmp_path, None) == 0
    assert not (tmp_path / "backup").exists()


def test_one_process_resumes_from_its_own_backup(tmp_path):
    assert resume.agree_on_resume(tmp_path, None) == 0
    back_up(tmp_path, latest=2)
    assert resume.agree_on_resume(tmp_path, None) == 2
