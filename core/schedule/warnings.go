package schedule

func textWarnings(b *builder) []string { return nil }
