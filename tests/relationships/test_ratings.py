import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from relationships import services
from relationships.models import SatisfactionRating

pytestmark = pytest.mark.django_db


def test_a_callback_rating_is_recorded_for_the_rm(org, book, login):
    response = login(org.west_officer).post(
        reverse("relationships:rating-create", args=[book.west.pk]), {"score": "4", "comment": "服务周到"}
    )
    assert response.status_code == 302
    rating = SatisfactionRating.objects.get()
    assert (rating.rated_staff, rating.recorded_by, rating.score, rating.comment) == (
        org.rm_west,
        org.west_officer,
        4,
        "服务周到",
    )


def test_an_rm_cannot_record_their_own_rating(org, book, login):
    with pytest.raises(PermissionDenied):
        services.rating_record(actor=org.rm_west.user, customer=book.west, score=5)
    page = login(org.rm_west).get(reverse("customers:customer-detail", args=[book.west.pk])).content.decode()
    assert 'data-testid="rating-form"' not in page
    login(org.rm_west).post(reverse("relationships:rating-create", args=[book.west.pk]), {"score": "5"})
    assert not SatisfactionRating.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database agrees
        SatisfactionRating.objects.create(customer=book.west, rated_staff=org.rm_west, recorded_by=org.rm_west, score=5)


@pytest.mark.parametrize("score", [0, 6])
def test_scores_are_1_to_5(org, book, score):
    with pytest.raises(ValidationError):
        services.rating_record(actor=org.west_head.user, customer=book.west, score=score)
