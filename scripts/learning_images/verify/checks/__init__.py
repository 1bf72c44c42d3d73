"""The verifier's checks, one module per area of the rule catalogue (config., upload., refuse.,
tier., access., replication.)."""
