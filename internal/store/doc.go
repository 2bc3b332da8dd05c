// Package store is Alexus's Postgres access: the application-role pool the
// planes query through, the one WithTenant helper that scopes a transaction
// to the context's tenant for row-level security, and the migration runner.
//
// The planes never query as a superuser or a table owner (both skip RLS):
// Open either connects with ALEXUS_POSTGRES_APP_URL or sets the role
// alexus_app on every pooled connection made from the admin URL, and refuses
// to start when the resulting role could bypass RLS.
package store
