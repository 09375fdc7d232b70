-- What Meta says with a template's status change besides the status: a pause's
-- other_info (title and description) and a flagged template's disable date, kept apart
-- from the rejection reason so 8x8's template_status_update carries each in its field.
ALTER TABLE template_events ADD COLUMN other_title TEXT;
ALTER TABLE template_events ADD COLUMN other_description TEXT;
ALTER TABLE template_events ADD COLUMN disable_date INTEGER;
