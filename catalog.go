package webhookd

// BuiltinEventTypes is the catalog of the webhooks guide: the eight event
// types every webhookd installation ships with. The examples of
// property.created and appointment.scheduled are the guide's own, verbatim;
// the others follow the same shape. webhookd writes them to the database on
// every start, so a changed description or example reaches existing
// installations on upgrade.
func BuiltinEventTypes() []*EventType {
	return []*EventType{
		{Name: "property.created", Description: "A new property is listed", Example: []byte(`{
  "id": "evt_123456",
  "type": "property.created",
  "created": "2023-06-15T10:30:00Z",
  "data": {
    "property": {
      "id": "prop_123456",
      "address": "123 Main St, New York, NY 10001",
      "price": 750000,
      "bedrooms": 2,
      "bathrooms": 2,
      "squareFeet": 1200,
      "createdAt": "2023-06-15T10:30:00Z"
    }
  }
}`)},
		{Name: "property.updated", Description: "Property details are updated", Example: []byte(`{
  "id": "evt_234567",
  "type": "property.updated",
  "created": "2023-06-16T09:15:00Z",
  "data": {
    "property": {
      "id": "prop_123456",
      "address": "123 Main St, New York, NY 10001",
      "price": 735000,
      "bedrooms": 2,
      "bathrooms": 2,
      "squareFeet": 1200,
      "updatedAt": "2023-06-16T09:15:00Z"
    },
    "changes": {
      "price": {
        "from": 750000,
        "to": 735000
      }
    }
  }
}`)},
		{Name: "property.sold", Description: "Property is marked as sold", Example: []byte(`{
  "id": "evt_345678",
  "type": "property.sold",
  "created": "2023-07-28T16:45:00Z",
  "data": {
    "property": {
      "id": "prop_123456",
      "address": "123 Main St, New York, NY 10001",
      "status": "sold",
      "listPrice": 735000,
      "soldPrice": 742500,
      "soldAt": "2023-07-28T16:45:00Z"
    }
  }
}`)},
		{Name: "appointment.scheduled", Description: "New showing appointment created", Example: []byte(`{
  "id": "evt_789012",
  "type": "appointment.scheduled",
  "created": "2023-06-15T14:20:00Z",
  "data": {
    "appointment": {
      "id": "appt_123456",
      "propertyId": "prop_123456",
      "startTime": "2023-06-20T10:30:00Z",
      "endTime": "2023-06-20T11:00:00Z",
      "status": "scheduled",
      "attendees": [
        {
          "id": "user_123",
          "name": "John Doe",
          "email": "john@example.com"
        }
      ],
      "createdAt": "2023-06-15T14:20:00Z"
    }
  }
}`)},
		{Name: "appointment.updated", Description: "Appointment details changed", Example: []byte(`{
  "id": "evt_890123",
  "type": "appointment.updated",
  "created": "2023-06-17T08:05:00Z",
  "data": {
    "appointment": {
      "id": "appt_123456",
      "propertyId": "prop_123456",
      "startTime": "2023-06-20T15:00:00Z",
      "endTime": "2023-06-20T15:30:00Z",
      "status": "scheduled",
      "updatedAt": "2023-06-17T08:05:00Z"
    },
    "changes": {
      "startTime": {
        "from": "2023-06-20T10:30:00Z",
        "to": "2023-06-20T15:00:00Z"
      },
      "endTime": {
        "from": "2023-06-20T11:00:00Z",
        "to": "2023-06-20T15:30:00Z"
      }
    }
  }
}`)},
		{Name: "appointment.cancelled", Description: "Appointment cancelled", Example: []byte(`{
  "id": "evt_901234",
  "type": "appointment.cancelled",
  "created": "2023-06-18T11:40:00Z",
  "data": {
    "appointment": {
      "id": "appt_123456",
      "propertyId": "prop_123456",
      "status": "cancelled",
      "cancelledBy": "user_123",
      "reason": "Buyer found another property",
      "cancelledAt": "2023-06-18T11:40:00Z"
    }
  }
}`)},
		{Name: "user.registered", Description: "New user registration", Example: []byte(`{
  "id": "evt_012345",
  "type": "user.registered",
  "created": "2023-06-14T18:02:00Z",
  "data": {
    "user": {
      "id": "user_123",
      "name": "John Doe",
      "email": "john@example.com",
      "role": "buyer",
      "registeredAt": "2023-06-14T18:02:00Z"
    }
  }
}`)},
		{Name: "feedback.submitted", Description: "Showing feedback submitted", Example: []byte(`{
  "id": "evt_456789",
  "type": "feedback.submitted",
  "created": "2023-06-20T12:10:00Z",
  "data": {
    "feedback": {
      "id": "fb_123456",
      "appointmentId": "appt_123456",
      "propertyId": "prop_123456",
      "userId": "user_123",
      "rating": 4,
      "comments": "Great natural light; the kitchen is smaller than expected.",
      "interestLevel": "high",
      "submittedAt": "2023-06-20T12:10:00Z"
    }
  }
}`)},
	}
}
