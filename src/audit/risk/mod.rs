//! Quasi-identifier risk: equivalence classes, prosecutor / journalist /
//! marketer risk, population uniqueness models, l-diversity and t-closeness.
