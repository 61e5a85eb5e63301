"""Mail sources: streaming readers for mbox files, Maildir trees and message directories."""
