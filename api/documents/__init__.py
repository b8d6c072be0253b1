"""Documents (文书): rendering from template files, the DOCX, and the services the routes use."""
