"""Anomaly detection: bulk reading by one account (exfiltration), throttled and alerted."""
