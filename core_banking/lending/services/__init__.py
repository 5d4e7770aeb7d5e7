"""The one write path for lending: products, applications and decisions, loans and their money,
the wording of loan documents.

Split by area; import from here.
"""

from core_banking.lending.services.applications import (
    GuarantorInput,
    loan_application_decide,
    loan_application_resubmit,
    loan_application_submit,
    loan_application_withdraw,
)
from core_banking.lending.services.document_templates import (
    document_template_restore_default,
    document_template_save,
)
from core_banking.lending.services.loans import (
    PayoffQuote,
    loan_disburse,
    loan_payoff_quote,
    loan_repay,
    loan_repayment_reverse,
)
from core_banking.lending.services.products import (
    approval_levels_set,
    loan_limit_rule_add,
    loan_limit_rule_remove,
    loan_product_create,
    loan_product_update,
    loan_rate_schedule,
    loan_sub_type_create,
    loan_sub_types_seed,
)
from core_banking.lending.services.provisions import (
    ProvisionBucket,
    provision_rates_ensure,
    provision_rates_set,
)
from core_banking.lending.services.repay_batch import BatchRepayment, RepaymentRequest, loan_repay_batch
from core_banking.lending.services.write_off import loan_recovery, loan_write_off

__all__ = [
    "BatchRepayment",
    "GuarantorInput",
    "PayoffQuote",
    "ProvisionBucket",
    "RepaymentRequest",
    "approval_levels_set",
    "document_template_restore_default",
    "document_template_save",
    "loan_application_decide",
    "loan_application_resubmit",
    "loan_application_submit",
    "loan_application_withdraw",
    "loan_disburse",
    "loan_limit_rule_add",
    "loan_limit_rule_remove",
    "loan_payoff_quote",
    "loan_product_create",
    "loan_product_update",
    "loan_rate_schedule",
    "loan_recovery",
    "loan_repay",
    "loan_repay_batch",
    "loan_repayment_reverse",
    "loan_sub_type_create",
    "loan_sub_types_seed",
    "loan_write_off",
    "provision_rates_ensure",
    "provision_rates_set",
]
