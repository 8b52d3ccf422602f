package ticket

// CheckText applies the rule of a ticket's free text to s, for other packages' text fields: valid
// UTF-8, no control characters (newlines and tabs only where multiline is set), and min to max
// characters. It returns the broken rule as a FieldError of field, or nil when s keeps the rule.
func CheckText(field, s string, min, max int, multiline bool) *FieldError {
	var v validator
	v.text(field, s, min, max, multiline)
	if len(v.fields) == 0 {
		return nil
	}
	return &v.fields[0]
}
