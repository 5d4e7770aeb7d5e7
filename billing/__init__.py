"""Plans, one-time and monthly fees, Stripe checkout and webhooks, dunning (control plane, public schema)."""
