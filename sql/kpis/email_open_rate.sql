-- kpi: email_open_rate
-- topic: email
-- unit: %
-- period: all time
-- missing: no e-mail source loaded
-- definition: Share of sent newsletter e-mails that were opened: unique opens ÷ e-mails sent ×
-- 100 over every campaign in `fct_email_campaigns` (MailChimp: exports and API), weighted by
-- campaign size, all time; `as_of` is the day the newest campaign was sent. Until a campaign is
-- loaded the KPI is empty.
SELECT (sum(unique_opens) / nullif(sum(emails_sent), 0) * 100)::DOUBLE AS value, 'all time' AS period,
       max(sent_at)::DATE AS as_of, NULL::VARCHAR AS artist, NULL::VARCHAR AS breakdown
FROM fct_email_campaigns
HAVING count(*) > 0
