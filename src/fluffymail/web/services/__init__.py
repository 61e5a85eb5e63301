"""What the web app's routes call: accounts, connections and the jobs dashboard (no HTTP here)."""
