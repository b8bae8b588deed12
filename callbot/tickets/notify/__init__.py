"""Messages to the caller who agreed to them (issue 18): a receipt when the ticket is filed,
a notice when it is resolved. ``base`` the interface and the messages, ``sms_gateway``
(eSMS.vn) and ``zalo_zns`` (Zalo ZNS) the providers, ``worker`` the delivery loop; the
queue is the store's ``notifications`` table (store/sql_notify.py). docs/tickets.md."""
