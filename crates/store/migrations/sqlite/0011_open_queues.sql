-- The agents' queues (open incidents of a group or an assignee, newest first) read a
-- page straight off these indexes instead of sorting every open incident of the group.
-- The predicate is the one `incident_rows::filter_clause` writes for `open`.
CREATE INDEX incidents_open_group ON incidents (group_id, id) WHERE status IN ('new', 'in_progress', 'on_hold');
CREATE INDEX incidents_open_assignee ON incidents (assignee_id, id) WHERE status IN ('new', 'in_progress', 'on_hold');
