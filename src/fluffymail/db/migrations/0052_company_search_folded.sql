-- The companies search ignores accents as well as case, as the contacts search does since 0050
-- (QA: "nestle" did not find Nestlé): the list, its count and the CSV export compare the
-- folded name and domain (crm.fold) with the folded search. The name's trigrams are indexed
-- since 0011 (of the folded text since 0050); the domain's were not, so a search read every
-- company of the user. Now both are found through GIN indexes, a BitmapOr of the two.
CREATE INDEX companies_domain_trigrams_idx ON crm.companies USING gin (crm.trigrams(domain));
