"""The personal to-do page: what is waiting for the logged-in user, in every community and role."""
