"""The catalogue of typical learner mistakes: each one, made in a copy of the solution, turns at least
one of its task's tests red with a message that names the mistake (see coursekit/mistakes.py)."""

import pytest

from coursekit import manifest, mistakes

CATALOGUE = [mistake for folder in mistakes.all_folders(manifest.load()) for mistake in mistakes.load(folder)]


def test_every_lesson_and_the_final_project_catalogue_at_least_eight_mistakes():
    for folder in mistakes.all_folders(manifest.load()):
        found = [mistake for mistake in CATALOGUE if mistake.folder == folder]
        assert len(found) >= 8, f"{folder.name}/mistakes.toml lists {len(found)} mistakes; at least 8 are needed"
        assert len({mistake.id for mistake in found}) == len(found), f"{folder.name}: mistake ids repeat"


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[mistake.label for mistake in CATALOGUE])
def test_the_mistake_is_caught_with_a_message_that_names_it(mistake, tmp_path):
    result = mistakes.run(mistake, tmp_path)
    assert result.error is None, f"With this mistake the tests cannot even run: {result.error}"
    failed = mistakes.failures(result)
    assert failed, f"{mistake.what}: every test still passes"
    assert mistakes.caught(mistake, result), (
        f"{mistake.what}: tests fail, but none says {mistake.expect!r}. They say:\n"
        + "\n".join(f"{test.nodeid}: {test.message}" for test in failed))
