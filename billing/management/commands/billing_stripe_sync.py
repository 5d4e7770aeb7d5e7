from typing import Any

from django.core.management.base import BaseCommand

from billing.models import PlanPrice
from billing.stripe_gateway import product_create, recurring_price_create, recurring_price_exists


class Command(BaseCommand):
    help = (
        "Create at Stripe (or localstripe) the monthly price of every plan price that Stripe does not know "
        "yet, under the id the plan price names. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for price in PlanPrice.objects.select_related("plan"):
            if recurring_price_exists(price.stripe_price_id):
                self.stdout.write(f"exists  {price.stripe_price_id}")
                continue
            product = product_create(
                {"name": f"CoopCore {price.plan.name}", "metadata": {"plan": price.plan.code}},
                idempotency_key=f"coopcore-product-{price.stripe_price_id}",
            )
            recurring_price_create(
                {
                    "id": price.stripe_price_id,
                    "amount": price.monthly_fee_minor,
                    "currency": price.currency.lower(),
                    "interval": "month",
                    "product": product["id"],
                    "metadata": {"plan": price.plan.code},
                }
            )
            self.stdout.write(f"created {price.stripe_price_id}")
