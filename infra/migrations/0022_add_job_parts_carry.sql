-- Which of a job's parts go on the van: the prediction chooses the set that makes the visit most
-- likely to be finished at once for the lines it costs (assets/parts_carry.py); a part a
-- dispatcher or a follow-up named is always carried. Rows from before are carried as they were
-- used: named parts, and predictions likely enough to be fetched.
ALTER TABLE job_parts ADD COLUMN carry boolean NOT NULL DEFAULT true;
UPDATE job_parts SET carry = (source = 'manual' OR probability >= 0.5);
