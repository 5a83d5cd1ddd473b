"""Comparisons as data: starting one from jobs or from gallery images, what it shows, its
images (only its owner's), the winner, and what deleting leaves behind."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from gallery.models import Collection, Comparison, ComparisonEntry, Image
from imagegen.models import Generation
from imagegen.tasks import run_generation


def job(owner: User, model: str = "gpt-image-2", prompt: str = "a red kite", **extra) -> Generation:
    parameters = {"n": 1, "size": "1024x1536", "quality": "low", "output_format": "png"} | extra
    return Generation.objects.create(
        owner=owner, model_name=model, prompt=prompt, parameters=parameters
    )


def test_start_for_jobs_keeps_the_jobs_in_the_order_given(alice: User) -> None:
    jobs = [job(alice, "gpt-image-2"), job(alice, "qwen-image"), job(alice, "gpt-image-2")]

    comparison = Comparison.objects.start_for_jobs(alice, jobs, title="  Kites  ")

    assert comparison.owner == alice
    assert comparison.title == "Kites"
    entries = list(comparison.entries.all())
    assert [entry.generation for entry in entries] == jobs
    assert [entry.position for entry in entries] == [0, 1, 2]
    assert all(entry.image is None for entry in entries)
    assert comparison.get_absolute_url() == f"/comparisons/{comparison.uuid}/"
    assert comparison.is_running


def test_its_shown_title_is_the_shared_prompt_or_how_many_images(alice: User, make_image) -> None:
    by_jobs = Comparison.objects.start_for_jobs(alice, [job(alice), job(alice)])
    assert by_jobs.shown_title == "a red kite"
    mixed = Comparison.objects.start_for_images(
        alice, [make_image(alice, "a harbour"), make_image(alice, "a lighthouse")]
    )
    assert mixed.shown_title == "Comparison of 2 images"
    mixed.title = "Sea"
    assert mixed.shown_title == "Sea" == str(mixed)


def test_start_for_jobs_refuses_nothing_and_other_peoples_jobs(alice: User, bob: User) -> None:
    with pytest.raises(ValueError, match="at least one job"):
        Comparison.objects.start_for_jobs(alice, [])
    with pytest.raises(ValueError, match="your own jobs"):
        Comparison.objects.start_for_jobs(alice, [job(alice), job(bob)])
    with pytest.raises(ValueError, match="At most 12"):
        Comparison.objects.start_for_jobs(alice, [job(alice) for _n in range(13)])
    assert not Comparison.objects.exists()


def test_start_for_images_takes_two_to_four_of_my_images(alice: User, make_image) -> None:
    images = [make_image(alice, f"picture {n}") for n in range(5)]

    for count in (2, 3, 4):
        comparison = Comparison.objects.start_for_images(alice, images[:count])
        assert [entry.image for entry in comparison.entries.all()] == images[:count]
    for count in (0, 1, 5):
        with pytest.raises(ValueError, match="Choose between 2 and 4 images to compare"):
            Comparison.objects.start_for_images(alice, images[:count])
    # The same image twice is one image.
    with pytest.raises(ValueError, match="between 2 and 4"):
        Comparison.objects.start_for_images(alice, [images[0], images[0]])


def test_start_for_images_refuses_someone_elses_image(alice: User, bob: User, make_image) -> None:
    with pytest.raises(ValueError, match="your own images"):
        Comparison.objects.start_for_images(alice, [make_image(alice), make_image(bob)])
    assert not Comparison.objects.exists()


def test_an_entry_is_a_job_or_an_image_never_both(alice: User, make_image) -> None:
    comparison = Comparison.objects.create(owner=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        ComparisonEntry.objects.create(
            comparison=comparison, position=0, generation=job(alice), image=make_image(alice)
        )
    ComparisonEntry.objects.create(comparison=comparison, position=0, generation=job(alice))
    with pytest.raises(IntegrityError), transaction.atomic():
        ComparisonEntry.objects.create(comparison=comparison, position=0, image=make_image(alice))


def test_a_finished_job_shows_every_image_it_made_with_its_latency(alice: User) -> None:
    jobs = [job(alice, "gpt-image-2", n=2), job(alice, "qwen-image", size="1328x1328", n=1)]
    jobs[1].parameters = {"n": 1, "size": "1328x1328"}
    jobs[1].save()
    comparison = Comparison.objects.start_for_jobs(alice, jobs)
    for made in jobs:
        assert run_generation.call(str(made.pk)) == "succeeded"

    comparison = Comparison.objects.with_entries().get(pk=comparison.pk)
    first, second = comparison.entries.all()
    assert len(first.shown_images) == 2
    assert len(second.shown_images) == 1
    assert not comparison.is_running
    assert first.latency_ms is not None and first.latency_ms >= 0
    shown = {name: value for name, _label, value in first.parameters_shown()}
    assert shown["size"] == "1024x1536"
    assert set(comparison.images()) == set(Image.objects.filter(generation__in=jobs))


def test_a_placeholder_has_the_shape_of_the_image_to_come(alice: User) -> None:
    comparison = Comparison.objects.start_for_jobs(
        alice, [job(alice), job(alice, size="auto"), job(alice, size="2K")]
    )
    sizes = [entry.expected_size for entry in comparison.entries.all()]
    assert sizes == [(1024, 1536), (1024, 1024), (1024, 1024)]


def test_an_uploaded_image_shows_the_settings_found_in_its_file(alice: User, make_image) -> None:
    first, second = make_image(alice, "one"), make_image(alice, "two")
    Image.objects.filter(pk=first.pk).update(
        generation=None, origin="uploaded", found_metadata={"settings": {"Steps": "30"}}
    )
    comparison = Comparison.objects.start_for_images(alice, [first, second])
    entry = comparison.entries.select_related("image__generation").first()
    assert entry.parameters_shown() == [("Steps", "Steps", "30")]
    assert entry.latency_ms is None


def test_images_are_only_ever_the_owners(alice: User, bob: User, make_image) -> None:
    mine = [make_image(alice), make_image(alice)]
    comparison = Comparison.objects.start_for_images(alice, mine)
    # Even an entry pointed at someone else's image (only admin could) shows nothing of it.
    bobs = make_image(bob, "bob's secret")
    ComparisonEntry.objects.create(comparison=comparison, position=2, image=bobs)
    bobs_job = job(bob)
    ComparisonEntry.objects.create(comparison=comparison, position=3, generation=bobs_job)

    assert set(comparison.images()) == set(mine)
    comparison = Comparison.objects.with_entries().get(pk=comparison.pk)
    shown = [image for entry in comparison.entries.all() for image in entry.shown_images]
    assert shown == mine


def test_picking_a_winner_favours_it_and_adds_it_to_a_collection(alice: User, make_image) -> None:
    images = [make_image(alice), make_image(alice)]
    comparison = Comparison.objects.start_for_images(alice, images)
    best = Collection.objects.create(owner=alice, name="Best")

    comparison.pick_winner(images[1], best)
    comparison.pick_winner(images[1], best)  # twice is once

    comparison.refresh_from_db()
    assert comparison.winner == images[1]
    images[1].refresh_from_db()
    assert images[1].favourite
    assert list(best.images.all()) == [images[1]]
    images[0].refresh_from_db()
    assert not images[0].favourite


def test_the_winner_must_be_compared_and_the_collection_mine(
    alice: User, bob: User, make_image
) -> None:
    images = [make_image(alice), make_image(alice)]
    comparison = Comparison.objects.start_for_images(alice, images)
    with pytest.raises(ValueError, match="one of the compared images"):
        comparison.pick_winner(make_image(alice))
    with pytest.raises(ValueError, match="your own collections"):
        comparison.pick_winner(images[0], Collection.objects.create(owner=bob, name="Bob's"))
    comparison.refresh_from_db()
    assert comparison.winner is None


def test_deleting_images_and_jobs_leaves_entries_shown_as_deleted(alice: User, make_image) -> None:
    images = [make_image(alice), make_image(alice), make_image(alice)]
    comparison = Comparison.objects.start_for_images(alice, images)
    comparison.pick_winner(images[0])

    Image.objects.filter(pk=images[0].pk).delete_with_files()
    images[1].generation.delete()  # a job's images go with it

    comparison = Comparison.objects.with_entries().get(pk=comparison.pk)
    assert comparison.winner is None
    assert [entry.is_deleted for entry in comparison.entries.all()] == [True, True, False]
    assert list(comparison.images()) == [images[2]]


def test_deleting_a_comparison_keeps_its_images_and_jobs(alice: User) -> None:
    jobs = [job(alice), job(alice)]
    comparison = Comparison.objects.start_for_jobs(alice, jobs)
    comparison.delete()
    assert Generation.objects.count() == 2
    assert not ComparisonEntry.objects.exists()


def test_for_user_lists_only_mine_newest_first(alice: User, bob: User) -> None:
    older = Comparison.objects.start_for_jobs(alice, [job(alice)])
    newer = Comparison.objects.start_for_jobs(alice, [job(alice)])
    Comparison.objects.start_for_jobs(bob, [job(bob)])
    assert list(Comparison.objects.for_user(alice)) == [newer, older]
