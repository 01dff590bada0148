"""Notifications: messages about interface health changes, sent by e-mail or webhook.

``app.sync.health`` queues one ``NotificationDelivery`` per change and target;
``dispatcher.deliver_due`` sends them with retries. See docs/notifications.md.
"""
