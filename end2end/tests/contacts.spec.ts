import { test, expect, Page } from '@playwright/test';
import { signIn, reload } from './helpers';

async function openContacts(page: Page) {
  await page.getByRole('link', { name: 'Company contacts' }).click();
  await expect(page).toHaveURL(/\/pbx\/contacts$/);
  await page.waitForLoadState('networkidle');
}

test('an admin creates a group, and adds, edits and deletes a contact in it', async ({ page }) => {
  await signIn(page);
  await openContacts(page);

  await page.getByLabel('Group name', { exact: true }).fill('Suppliers');
  await page.getByRole('button', { name: 'Create group' }).click();
  // The new group is selected (in the address, so that a reload keeps it).
  await expect(page).toHaveURL(/\/pbx\/contacts\?group=\d+$/);
  const groups = page.getByRole('table', { name: 'Company contacts groups' });
  const suppliers = groups.getByRole('row').filter({ hasText: 'Suppliers' });
  await expect(suppliers.locator('td.num')).toHaveText('0');

  // A name that is taken (whatever the case) is refused beside the field.
  await page.getByLabel('Group name', { exact: true }).fill('suppliers');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.locator('#new-group-name-error')).toHaveText('Another group already has this name.');
  await expect(groups.getByRole('row')).toHaveCount(2);

  // A contact needs a phone number.
  await page.getByLabel('Last name', { exact: true }).fill('Lawrence');
  await page.getByRole('button', { name: 'Add contact' }).click();
  await expect(page.locator('#contact-phones-error')).toHaveText(
    'Enter at least one phone number: business, mobile or home.');
  await page.getByLabel('First name', { exact: true }).fill('Jennifer');
  await page.getByLabel('Company', { exact: true }).fill('Zylker');
  await page.getByLabel('E-mail', { exact: true }).fill('jennifer@zylker.example.com');
  await page.getByLabel('Mobile phone', { exact: true }).fill('+86 138 0013 8000');
  await page.getByRole('button', { name: 'Add contact' }).click();
  const table = page.getByRole('table', { name: 'Contacts in Suppliers' });
  await expect(table.getByRole('row').filter({ hasText: 'Jennifer Lawrence' })).toContainText('+86 138 0013 8000');
  await expect(suppliers.locator('td.num')).toHaveText('1');
  // The form is empty again, ready for the next one.
  await expect(page.getByLabel('Last name', { exact: true })).toHaveValue('');

  // Edit: the form takes the contact's values.
  await page.getByRole('button', { name: 'Edit Jennifer Lawrence' }).click();
  await expect(page.getByRole('heading', { name: 'Edit contact' })).toBeVisible();
  await expect(page.getByLabel('Last name', { exact: true })).toHaveValue('Lawrence');
  await page.getByLabel('Last name', { exact: true }).fill('Lawrence-Hale');
  await page.getByLabel('Business phone', { exact: true }).fill('555.0101');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#contact-business-phone + .field-error')).toHaveText('Digits, with + - ( ) or spaces.');
  await page.getByLabel('Business phone', { exact: true }).fill('(020) 555-0101');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const edited = table.getByRole('row').filter({ hasText: 'Jennifer Lawrence-Hale' });
  await expect(edited).toContainText('(020) 555-0101');
  await expect(page.getByRole('heading', { name: 'Add contact' })).toBeVisible();

  await reload(page);
  await expect(edited).toContainText('(020) 555-0101');
  await expect(edited).toContainText('jennifer@zylker.example.com');

  await page.getByRole('button', { name: 'Delete Jennifer Lawrence-Hale' }).click();
  await expect(page.getByRole('dialog')).toContainText('Delete the contact Jennifer Lawrence-Hale?');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.getByText('No contacts in this group yet')).toBeVisible();
  await expect(suppliers.locator('td.num')).toHaveText('0');
});

test('an admin renames and deletes a group', async ({ page }) => {
  await signIn(page);
  await openContacts(page);
  await page.getByLabel('Group name', { exact: true }).fill('Partners');
  await page.getByRole('button', { name: 'Create group' }).click();
  const groups = page.getByRole('table', { name: 'Company contacts groups' });
  await expect(groups).toContainText('Partners');

  await page.getByRole('button', { name: 'Rename Partners' }).click();
  await groups.getByRole('textbox', { name: 'Group name' }).fill('Key partners');
  await groups.getByRole('button', { name: 'Save' }).click();
  await expect(groups.getByRole('link', { name: 'Key partners' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Contacts in Key partners' })).toBeVisible();

  await page.getByRole('button', { name: 'Delete Key partners' }).click();
  await expect(page.getByRole('dialog')).toContainText('Delete the empty group “Key partners”?');
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page.getByRole('button', { name: 'Delete Key partners' }).click();
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(groups.getByRole('link', { name: 'Key partners' })).toHaveCount(0);
  await expect(page).toHaveURL(/\/pbx\/contacts$/);
});

test('the page speaks Chinese', async ({ page }) => {
  await signIn(page);
  await page.locator('#language').selectOption('zh-CN');
  await page.getByRole('link', { name: '企业联系人' }).click();
  await expect(page).toHaveURL(/\/pbx\/contacts/);
  await page.waitForLoadState('networkidle');
  await page.getByLabel('群组名称', { exact: true }).fill('销售部');
  await page.getByRole('button', { name: '创建群组' }).click();
  await expect(page.getByRole('heading', { name: '销售部 的联系人' })).toBeVisible();
  await page.getByLabel('姓氏', { exact: true }).fill('王');
  await page.getByLabel('名字', { exact: true }).fill('小明');
  await page.getByLabel('手机号码', { exact: true }).fill('13800138000');
  await page.getByRole('button', { name: '添加联系人' }).click();
  await expect(page.getByRole('table', { name: '销售部 的联系人' })).toContainText('13800138000');
  // The numbers sit in their columns (a badge's style once made the cells pills).
  await expect(page.locator('.contacts-table td.phone').nth(1)).toHaveText('13800138000');
  await expect(page.locator('.contacts-table td.phone').nth(1)).toHaveCSS('display', 'table-cell');
  await page.screenshot({ path: 'test-results/contacts-zh.png', fullPage: true });
});
