"""Security: sessions, sign-in limits, headers and the production configuration."""
