-- A turn's dashboard trigger (0021) parsed every turn's answer to look for a
-- clarification among its messages: a JSON parse on the committer's thread, the serial
-- part of every turn, for answers that mostly carry no message at all. A message's code
-- is the key "code" in the answer's text (JSON escapes every quote inside a string, so
-- the text "code" in quotes is a key or the whole of a string), so an answer without
-- that text has no clarification and is not parsed. What the trigger counts is as
-- before.
DROP TRIGGER dashboard_turn_recorded;
CREATE TRIGGER dashboard_turn_recorded AFTER INSERT ON chat_turns
BEGIN
    UPDATE dashboard_conversations SET
        clarification_turns = clarification_turns + turn.clarifying,
        first_message_at = CASE
            WHEN first_message_at IS NULL OR NEW.received_at < first_message_at
            THEN NEW.received_at ELSE first_message_at END
    FROM (SELECT CASE WHEN instr(NEW.response, '"code"') = 0 THEN 0 ELSE EXISTS (
            SELECT 1 FROM json_each(NEW.response, '$.messages') m
            WHERE json_extract(m.value, '$.code')
                IN ('ambiguous_product', 'unknown_product', 'missing', 'not_understood'))
          END AS clarifying) AS turn
    WHERE conversation_id = NEW.conversation_id
      AND (turn.clarifying OR first_message_at IS NULL OR NEW.received_at < first_message_at);
END;
