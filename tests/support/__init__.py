"""What the tests share: renders and policy readers (stack), command runners (ops), the IAM
violation scenarios (iam_scenarios) and the verifier harness (verifying)."""
