"""Exchange with the outside: canonical export, the VoID/DCAT description, and push to a running store."""
