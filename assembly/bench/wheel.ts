export function benchNoop(): void {}
